import path from 'node:path';
import { Eta } from 'eta';

export type Views = Eta;

/** Eta with auto-escaping on: `<%= %>` escapes, `<%~ %>` is reserved for already-rendered HTML. */
export function createViews(viewsDir: string, cache: boolean): Views {
  return new Eta({ views: path.resolve(viewsDir), cache, autoEscape: true, autoTrim: [false, 'nl'] });
}
