import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import type { Context, Next } from 'koa';
import { chooseEncoding } from './compress.ts';
import { ifNoneMatchHits } from './etag.ts';

/**
 * Static files from `public/`, held in memory with their gzip and brotli forms made once at start.
 * Each file is also served under a fingerprinted name (`/assets/app.3f9c1a2b.css`) with a year-long
 * immutable cache; templates ask `assetUrl('app.css')` for that name. koa-static serves files but does
 * not fingerprint them, and the whole folder is a few tens of kilobytes, so a map lookup (which also
 * makes path traversal impossible) is the simplest correct server.
 */
interface Asset {
  body: Buffer;
  gzip: Buffer;
  brotli: Buffer;
  type: string;
  etag: string;
  fingerprinted: string;
}

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

function walk(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full, base) : [path.relative(base, full).split(path.sep).join('/')];
  });
}

/**
 * Headers that act only on a document (a page, or an SVG opened as one): a stylesheet, a script (a
 * worker's policy is its own script's, /sw.js) or an image sent as a subresource needs none of them,
 * and a first visit on a slow link would carry them once per file (~330 bytes each).
 * X-Content-Type-Options, Cross-Origin-Resource-Policy and Referrer-Policy (a stylesheet's own
 * requests use it) stay.
 */
const DOCUMENT_ONLY = ['Content-Security-Policy', 'X-Frame-Options', 'Cross-Origin-Opener-Policy', 'Permissions-Policy'];
const DOCUMENT_TYPES = new Set([TYPES['.svg'], TYPES['.txt'], TYPES['.webmanifest']]);

export interface Assets {
  url(name: string): string;
  middleware(ctx: Context, next: Next): Promise<void>;
}

export function loadAssets(publicDir: string): Assets {
  const byPath = new Map<string, Asset>();
  const byName = new Map<string, Asset>();
  for (const rel of walk(publicDir)) {
    const ext = path.extname(rel);
    const type = TYPES[ext];
    if (!type) continue;
    const body = readFileSync(path.join(publicDir, rel));
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
    const fingerprinted = `/assets/${rel.slice(0, -ext.length)}.${hash}${ext}`;
    const asset: Asset = {
      body,
      gzip: gzipSync(body, { level: 9 }),
      brotli: brotliCompressSync(body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } }),
      type,
      etag: `"${hash}"`,
      fingerprinted,
    };
    byName.set(rel, asset);
    byPath.set(`/${rel}`, asset);
    byPath.set(fingerprinted, asset);
  }

  return {
    url(name) {
      const asset = byName.get(name);
      if (!asset) throw new Error(`No asset named ${name} in public/ (did the build step run? npm run build:assets)`);
      return asset.fingerprinted;
    },
    async middleware(ctx, next) {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
      const asset = byPath.get(ctx.path);
      if (!asset) return next();
      const immutable = ctx.path === asset.fingerprinted;
      ctx.set('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=300');
      ctx.set('ETag', asset.etag);
      ctx.vary('Accept-Encoding');
      ctx.type = asset.type;
      if (!DOCUMENT_TYPES.has(asset.type)) for (const name of DOCUMENT_ONLY) ctx.remove(name);
      if (ifNoneMatchHits(ctx.get('If-None-Match'), asset.etag)) {
        ctx.status = 304;
        return;
      }
      ctx.compress = false;
      // Brotli whenever it is accepted: browsers list it last ("gzip, deflate, br"), and it saves ~10 %.
      const encoding = chooseEncoding(ctx.get('Accept-Encoding'));
      if (encoding === 'br') {
        ctx.set('Content-Encoding', 'br');
        ctx.body = asset.brotli;
      } else if (encoding === 'gzip') {
        ctx.set('Content-Encoding', 'gzip');
        ctx.body = asset.gzip;
      } else {
        ctx.body = asset.body;
      }
    },
  };
}
