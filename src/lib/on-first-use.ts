/**
 * A heavy module (a provider SDK) made on first use, not at start-up: a process that never needs it
 * never pays for it in memory. The promise is kept, so the import and the client happen once; a
 * failed load is tried again next time.
 */
export function onFirstUse<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make().catch((err: unknown) => {
      made = undefined;
      throw err;
    });
    return made;
  };
}
