import { Stream } from 'node:stream';
import { brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib';
import type { Context, Next } from 'koa';

/**
 * Compression for responses already in memory (pages, fragments, JSON): one synchronous call and a body
 * with its Content-Length, sent in one write. koa-compress pipes every response through a zlib stream,
 * which for the few kilobytes of a page costs more than the compression itself (a stream, a brotli
 * encoder sized for 4 MB windows, thread-pool round trips, a chunked body in several socket writes).
 * Streams (CSV exports) and very large bodies are left to
 * koa-compress, which runs outside this middleware.
 */
const COMPRESSIBLE = /^text\/|[/+]json$|[/+]xml$|javascript$|^image\/svg\+xml$/;
const NO_TRANSFORM = /(?:^|,)\s*no-transform\s*(?:,|$)/i;
const EMPTY = new Set([204, 205, 304]);
/** Above this, a synchronous call would hold the event loop too long: koa-compress streams it. */
const MAX_INLINE = 256 * 1024;

/** br when the client takes it, else gzip, else nothing (q=0 refuses a coding). */
export function chooseEncoding(header: string | undefined): 'br' | 'gzip' | undefined {
  if (!header) return undefined;
  const accepted = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    accepted.set(name.trim(), q === undefined ? 1 : Number(q));
  }
  const ok = (coding: string) => (accepted.get(coding) ?? accepted.get('*') ?? 0) > 0;
  if (ok('br')) return 'br';
  if (ok('gzip')) return 'gzip';
  return undefined;
}

/** A response body in memory as the bytes sent: a Buffer as it is, a string as UTF-8, anything else as JSON (Koa's way). */
export const bodyBytes = (body: unknown): Buffer =>
  Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));

/**
 * `buffer` in memory of its own. Node hands out small buffers (Buffer.from of a string, a zlib
 * result) as slices of shared 8 KB slabs: one kept slice would keep its whole slab alive.
 */
export function unpooled(buffer: Buffer): Buffer {
  if (buffer.byteOffset === 0 && buffer.buffer.byteLength === buffer.length) return buffer;
  const own = Buffer.allocUnsafeSlow(buffer.length);
  buffer.copy(own);
  return own;
}

const brotli = (raw: Buffer): Buffer =>
  brotliCompressSync(raw, {
    params: {
      // koa-compress's quality; a window no larger than the body (less memory to set up).
      [zlib.BROTLI_PARAM_QUALITY]: 4,
      [zlib.BROTLI_PARAM_LGWIN]: Math.min(22, Math.max(10, Math.ceil(Math.log2(raw.length)))),
      [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length,
      [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
    },
  });

export function compressInMemory({ threshold = 1024 } = {}) {
  return async function compressBody(ctx: Context, next: Next): Promise<void> {
    ctx.vary('Accept-Encoding');
    await next();
    const body: unknown = ctx.body;
    if (
      body === null ||
      body === undefined ||
      body instanceof Stream ||
      ctx.compress === false ||
      ctx.method === 'HEAD' ||
      EMPTY.has(ctx.status) ||
      ctx.res.headersSent ||
      ctx.response.get('Content-Encoding') ||
      NO_TRANSFORM.test(ctx.response.get('Cache-Control')) ||
      !COMPRESSIBLE.test(ctx.response.type)
    ) {
      return;
    }
    const encoding = chooseEncoding(ctx.get('Accept-Encoding'));
    if (!encoding) return;
    const raw = bodyBytes(body);
    if (raw.length < threshold || raw.length > MAX_INLINE) return;
    // A kept response (kept-responses.ts) is compressed once per coding.
    const memo = ctx.state.encodedBody?.body === raw ? ctx.state.encodedBody.encoded : undefined;
    let encoded = memo?.get(encoding);
    if (!encoded) {
      encoded = encoding === 'br' ? brotli(raw) : gzipSync(raw);
      if (memo && encoded.length < raw.length) memo.set(encoding, unpooled(encoded));
    }
    ctx.body = encoded;
    ctx.set('Content-Encoding', encoding);
  };
}
