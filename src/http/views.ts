import path from 'node:path';
import { Eta } from 'eta';

export type Views = Eta;

/**
 * Eta with auto-escaping on: `<%= %>` escapes, `<%~ %>` is reserved for already-rendered HTML. Every
 * template (a partial too, whatever data it was given) can call `newIdempotencyKey()`: a fresh random
 * key for a form's hidden `idempotency_key` field (views/partials/idempotency.eta).
 */
export function createViews(viewsDir: string, cache: boolean): Views {
  return new Eta({
    views: path.resolve(viewsDir),
    cache,
    autoEscape: true,
    autoTrim: [false, 'nl'],
    functionHeader: 'const newIdempotencyKey = () => globalThis.crypto.randomUUID();',
  });
}
