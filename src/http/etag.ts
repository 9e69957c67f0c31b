/** The opaque part of an entity tag: `W/"x"` and `"x"` compare equal (RFC 9110's weak comparison). */
const opaque = (tag: string) => tag.trim().replace(/^W\//, '');

/**
 * Whether If-None-Match names `etag` (RFC 9110 13.1.2, for GET and HEAD). Not Koa's `ctx.fresh`: that
 * answers "stale" to any request with `Cache-Control: no-cache`, which fetch() adds by itself to a
 * request carrying If-None-Match, so such a client would never get its 304.
 */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const wanted = opaque(etag);
  return header.split(',').some((tag) => opaque(tag) === wanted);
}
