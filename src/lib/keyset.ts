/**
 * Keyset pagination: a list query asks for `limit + 1` rows, newest first; this keeps `limit` of them
 * and, when the extra row came back, gives the cursor of the next page (the last kept row's id).
 */
export function keysetPage<T>(rows: T[], limit: number, idOf: (row: T) => number): { rows: T[]; nextCursor?: number } {
  if (rows.length <= limit) return { rows };
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { rows: page, nextCursor: last === undefined ? undefined : idOf(last) };
}
