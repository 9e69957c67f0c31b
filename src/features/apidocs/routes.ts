import { createHash } from 'node:crypto';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import Router from '@koa/router';
import type { Context } from 'koa';
import { chooseEncoding } from '../../http/compress.ts';
import type { Deps } from '../../http/context.ts';
import { ifNoneMatchHits } from '../../http/etag.ts';
import type { OpenApiDocument } from '../../http/openapi.ts';
import { renderView } from '../../http/respond.ts';
import { referenceView } from './reference.ts';

/** The document as sent: its bytes, their compressed forms and its ETag, made once per process. */
interface Served {
  body: Buffer;
  br: Buffer;
  gzip: Buffer;
  etag: string;
}

function serve(document: OpenApiDocument): Served {
  const body = Buffer.from(JSON.stringify(document));
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, br: brotliCompressSync(body), gzip: gzipSync(body), etag };
}

/**
 * `/api/openapi.json` and `/api/docs`. The document is built on first use (zod-openapi takes a moment
 * and most processes never serve it) and then kept: served from memory with its ETag, compressed once.
 */
export function apiDocsRoutes({ config }: Deps, describe: () => OpenApiDocument): Router {
  const router = new Router();
  let served: Served | undefined;
  let view: ReturnType<typeof referenceView> | undefined;

  router.get('/api/openapi.json', (ctx: Context) => {
    served ??= serve(describe());
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('ETag', served.etag);
    ctx.vary('Accept-Encoding');
    if (ifNoneMatchHits(ctx.get('If-None-Match'), served.etag)) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'application/json';
    const encoding = chooseEncoding(ctx.get('Accept-Encoding'));
    if (encoding) ctx.set('Content-Encoding', encoding);
    ctx.body = encoding ? served[encoding] : served.body;
  });

  router.get('/api/docs', (ctx: Context) => {
    view ??= referenceView(describe(), config.appUrl);
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = 'html';
    ctx.body = renderView(ctx, 'apidocs/page', { reference: view }, 'API reference');
  });

  return router;
}
