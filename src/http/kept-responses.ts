import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'koa';
import { viewsDir } from '../paths.ts';
import { bodyBytes, unpooled } from './compress.ts';
import { ifNoneMatchHits } from './etag.ts';

/**
 * Responses kept in memory with the version of the data they were made from, for reads the database
 * can version cheaply (the ticket lists on PostgreSQL: versionedListQuery). Each request still signs
 * in and still asks the database, in the one statement that would read the data, for the data's
 * current version; the data comes back only when that is not the kept response's version. So a kept
 * response is sent only while it is exactly what a fresh one would be: what it saves is the rows'
 * transfer and decoding, turning them into JSON or HTML, and compressing that (compressInMemory keeps
 * each coding it makes in `encoded`).
 *
 * The version also makes the response's ETag, with the code that renders it (codeVersion): a client
 * that sends it back in If-None-Match gets a 304 and no body while nothing it shows has changed
 * (browsers do this themselves: `Cache-Control: private, no-cache`).
 */
export interface KeptResponse {
  version: string;
  etag: string;
  type: string;
  body: Buffer;
  /** Headers that belong to the body: Vary, and those the caller names (a list's `Link`). */
  headers: Record<string, string>;
  /** The body compressed, by coding (compressInMemory fills it the first time a coding is asked for). */
  encoded: Map<string, Buffer>;
}

/** Bodies smaller than this are not kept: they cost little to make again (and are sent uncompressed). */
export const MIN_KEPT_BYTES = 1024;
/** What an entry costs besides its bytes: the entry, its strings, its map slot (an estimate, on the high side). */
const ENTRY_OVERHEAD = 1024;
/** An entry's cost: its key, the body, at most two compressed forms (each kept only when smaller), overhead. */
const costOf = (key: string, kept: KeptResponse) => ENTRY_OVERHEAD + 2 * key.length + 3 * kept.body.length;

/** At most `maxBytes` of entries (costOf), least recently used out first. */
export class KeptResponses {
  readonly #entries = new Map<string, { kept: KeptResponse; cost: number }>();
  #bytes = 0;
  constructor(readonly maxBytes: number) {}

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): KeptResponse | undefined {
    const entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key); // most recently used last
      this.#entries.set(key, entry);
    }
    return entry?.kept;
  }

  set(key: string, kept: KeptResponse): void {
    this.delete(key);
    const cost = costOf(key, kept);
    if (kept.body.length < MIN_KEPT_BYTES || cost > this.maxBytes) return;
    while (this.#bytes + cost > this.maxBytes) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.delete(oldest);
    }
    this.#entries.set(key, { kept, cost });
    this.#bytes += cost;
  }

  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.cost;
  }
}

/** The body kept for compressInMemory: its compressed forms are made once per coding. */
export interface EncodedBody {
  body: Buffer;
  encoded: Map<string, Buffer>;
}

/** The running code's own files: `src/` in development, `dist/src/` when built. */
const codeDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
let codeHash: string | undefined;

/**
 * A hash of the code and templates that render responses (the app's own source or build, and views/),
 * made once per process. It is part of every ETag: after a deploy that changes how a list looks, a
 * browser's copy of an unchanged page no longer matches, and replicas of one build agree.
 */
export function codeVersion(): string {
  if (codeHash === undefined) {
    const hash = createHash('sha256');
    // Names in code-point order, not the locale's: every replica must hash the same way.
    const add = (root: string, dir = root) => {
      for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) add(root, file);
        else if (entry.isFile()) hash.update(path.relative(root, file)).update('\0').update(readFileSync(file));
      }
    };
    add(codeDir);
    add(viewsDir);
    codeHash = hash.digest('base64url').slice(0, 16);
  }
  return codeHash;
}

const CACHE_CONTROL = 'private, no-cache';

/** The response's validators and the 304 for a client that already has this version. */
function validate(ctx: Context, etag: string): void {
  ctx.set('Cache-Control', CACHE_CONTROL);
  ctx.set('ETag', etag);
  if ((ctx.method === 'GET' || ctx.method === 'HEAD') && ifNoneMatchHits(ctx.get('If-None-Match'), etag)) ctx.status = 304; // Koa drops the body
}

/**
 * Answers with a kept response (200, or 304 when the client's copy is this version). Nothing is
 * rendered, so one thing differs from a fresh fragment: a flash message waiting in the session (set
 * by another tab's form) stays for the next page, where a fresh render would take it unseen.
 */
export function sendKept(ctx: Context, kept: KeptResponse): void {
  ctx.status = 200;
  ctx.type = kept.type;
  for (const [name, value] of Object.entries(kept.headers)) ctx.set(name, value);
  ctx.body = kept.body;
  ctx.state.encodedBody = kept;
  validate(ctx, kept.etag);
}

/**
 * After a fresh 200 answer made from data at `version`: keeps it under `key` (with its Vary and the
 * headers named in `headerNames`), gives it its ETag, and answers 304 when the client's copy is this version. The
 * key must name everything besides the data the answer depends on (audience, query, viewer).
 */
export function keepResponse(ctx: Context, kept: KeptResponses, key: string, version: string, headerNames: string[] = []): void {
  if (ctx.status !== 200 || ctx.body === null || ctx.body === undefined) return;
  const body = unpooled(bodyBytes(ctx.body));
  const type = ctx.response.get('Content-Type');
  ctx.body = body;
  ctx.type = type; // a Buffer body would otherwise be sent as application/octet-stream where no type was set
  const headers: Record<string, string> = {};
  for (const name of ['Vary', ...headerNames]) {
    const value = ctx.response.get(name);
    if (value) headers[name] = value;
  }
  const tag = createHash('sha256').update(codeVersion()).update('\0').update(key).update('\0').update(version);
  const etag = `W/"${tag.digest('base64url').slice(0, 27)}"`;
  const entry: KeptResponse = { version, etag, type, body, headers, encoded: new Map() };
  kept.set(key, entry);
  ctx.state.encodedBody = entry;
  validate(ctx, etag);
}
