import type { ExecutionContext } from 'ava';
import fc from 'fast-check';
import type { Db } from '../../src/db/index.ts';
import type { Client, Reply } from './client.ts';
import { changedTables, type Snapshot, snapshot, tableNames } from './snapshot.ts';

/**
 * Hostile input for fuzzing the HTTP surface with fast-check (issue #9 §2): wrong types, huge
 * strings, unicode, nulls, nested objects, arrays where scalars belong, negative and enormous numbers,
 * SQL and HTML payloads, duplicate keys and query parameters, and bodies that are not JSON at all.
 *
 * The seed is fixed so CI runs the same cases every time (a fuzz test that fails only sometimes is a
 * flake, not a finding); `FUZZ_SEED=random` (or a number) explores, and `FUZZ_RUNS=4` multiplies the
 * number of cases per endpoint. A failure prints the seed and the shrunk request that broke it.
 */
const seedEnv = process.env.FUZZ_SEED;
export const FUZZ_SEED = seedEnv === 'random' ? Math.floor(Math.random() * 2 ** 31) : seedEnv ? Number(seedEnv) : 0x9c0ffee;
export const RUNS_FACTOR = Math.max(0.1, Number(process.env.FUZZ_RUNS ?? 1) || 1);

export const SQL = [
  "' OR '1'='1",
  "1' OR 1=1 --",
  '1; DROP TABLE tickets; --',
  "' UNION SELECT password_hash, 1 FROM users --",
  "%' AND 1=0 UNION SELECT token_hash FROM api_tokens --",
  "'); DELETE FROM users; --",
  '1) OR pg_sleep(5) IS NULL --',
  "\\'; SELECT 1; --",
];

export const HTML = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "'><svg/onload=alert(1)>",
  'javascript:alert(1)',
  '<a href="javascript:alert(1)">x</a>',
  '{{constructor.constructor("alert(1)")()}}',
  '<%= process.exit(1) %>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-literal payload, sent as text
  '${process.exit(1)}',
  '</textarea><script>alert(1)</script>',
];

export const WEIRD = [
  '',
  ' ',
  '\t\n',
  '\u0000',
  'a\u0000b',
  '\u202etxt.exe',
  '\ud800',
  '\udfff\ud800',
  '\uffff',
  '🙂🙂',
  'e\u0301',
  'ǅ',
  'ＡＤＭＩＮ',
  'null',
  'undefined',
  'true',
  'NaN',
  'Infinity',
  '-Infinity',
  '-1',
  '0',
  '00',
  '1e3',
  '1e309',
  '1.5',
  '0x10',
  ' 7 ',
  '+5',
  '9007199254740993',
  '2147483648',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '%00',
  '%',
  '%zz',
  '../../../../etc/passwd',
  '..\\..\\windows',
  'admin',
  'approved',
  'Other',
  '+12025550142',
  'a@b.c',
  'CR\r\nSet-Cookie: x=1',
];

const NUMBERS = [
  -1,
  0,
  1,
  2,
  1.5,
  -0.5,
  2 ** 31,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 53,
  -(2 ** 53),
  2 ** 53 + 2,
  1e21,
  1e308,
  -1e308,
  5e-324,
];

/** Strings big enough to hit every length limit, and one past the body limit (100 KB by default). */
const huge = fc
  .constantFrom(256, 2001, 10_000, 60_000)
  .chain((n) => fc.constantFrom('x', 'é', '🙂', '<').map((c) => c.repeat(n)));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...SQL, ...HTML, ...WEIRD), weight: 6 },
  { arbitrary: fc.string({ maxLength: 24 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 12 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }), weight: 1 },
  { arbitrary: fc.integer().map(String), weight: 1 },
  { arbitrary: huge, weight: 1 },
);

/**
 * encodeURIComponent, except that a lone surrogate (which it refuses) is written as the bytes a
 * careless encoder would produce (%ED%A0%80): invalid UTF-8 on the wire, on purpose.
 */
export function encode(value: string): string {
  return value
    .split(/([\ud800-\udfff])/)
    .map((part) => {
      if (part.length !== 1 || !/[\ud800-\udfff]/.test(part)) return encodeURIComponent(part);
      const code = part.charCodeAt(0);
      const bytes = [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)];
      return bytes.map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    })
    .join('');
}

/**
 * Strings for URLs, cut to 600 characters: Node's HTTP parser answers a request line over 16 KB with
 * a bare 431 before the app sees it (and proxies cut at 8 KB), so longer ones test Node, not the app.
 */
const urlString = hostileString.map((s) => s.slice(0, 600));

const scalar: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: hostileString, weight: 6 },
  { arbitrary: fc.constantFrom(...NUMBERS), weight: 2 },
  { arbitrary: fc.integer(), weight: 1 },
  { arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }), weight: 1 },
  { arbitrary: fc.boolean(), weight: 1 },
  { arbitrary: fc.constant(null), weight: 2 },
);

const anyKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', '', ' ', 'a.b', '0'),
  fc.string({ maxLength: 8 }),
);

/** Any JSON value: scalars, and arrays and objects (nested a few levels) where scalars belong. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: scalar, weight: 5 },
    { arbitrary: fc.array(tie('value'), { maxLength: 3 }), weight: 1 },
    { arbitrary: fc.dictionary(anyKey, tie('value'), { maxKeys: 3 }), weight: 1 },
  ),
})).value;

/** A JSON object written by hand, so a key may appear twice (JSON.parse keeps the last one). */
export function jsonObjectText(pairs: [string, unknown][]): string {
  return `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`;
}

/** Bodies that are not a JSON object, or not JSON at all. */
const RAW_JSON = [
  '',
  '{',
  '{"a":',
  '[1,2',
  'null',
  'true',
  '"a string"',
  '123',
  '[]',
  '[{}]',
  '1e999',
  '{"a":1e999}',
  '{"__proto__":{"role":"admin","isAdmin":true}}',
  '{"constructor":{"prototype":{"role":"admin"}}}',
  `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
  `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`,
  '\uFEFF{}',
  "{'single':'quotes'}",
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
];

/**
 * JSON request bodies for an endpoint: a valid example with fields replaced by hostile values or
 * duplicated, objects of known and unknown keys, non-objects, and text that is not JSON.
 */
export function jsonBody(valid: Record<string, unknown>, extraKeys: string[] = []): fc.Arbitrary<string> {
  const keys = [...new Set([...Object.keys(valid), ...extraKeys])];
  const key = keys.length
    ? fc.oneof({ arbitrary: fc.constantFrom(...keys), weight: 4 }, { arbitrary: anyKey, weight: 1 })
    : anyKey;
  const mutated = fc
    .array(fc.tuple(key, hostileValue), { minLength: 1, maxLength: 3 })
    .map((changes) => jsonObjectText([...Object.entries(valid), ...changes]));
  const replaced = fc.array(fc.tuple(key, hostileValue), { maxLength: 5 }).map((pairs) => jsonObjectText(pairs));
  return fc.oneof(
    { arbitrary: mutated, weight: 5 },
    { arbitrary: replaced, weight: 3 },
    { arbitrary: hostileValue.map((v) => JSON.stringify(v) ?? 'null'), weight: 1 },
    { arbitrary: fc.constantFrom(...RAW_JSON), weight: 1 },
  );
}

/** Query strings: known and unknown names, repeated names, bracket syntax, hostile and malformed values. */
export function queryString(known: string[]): fc.Arbitrary<string> {
  const names = known.length ? known : ['q', 'id'];
  const name = fc.oneof(
    { arbitrary: fc.constantFrom(...names, ...names.map((n) => `${n}[]`), ...names.map((n) => `${n}[a]`)), weight: 4 },
    { arbitrary: anyKey, weight: 1 },
  );
  const value = fc.oneof(
    { arbitrary: urlString.map(encode), weight: 5 },
    // Left unencoded on purpose: a stray %, +, & or # as a careless client sends it.
    { arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '+', 'a+b', '%2B', '%26', '=', '%00'), weight: 1 },
  );
  return fc
    .array(fc.tuple(name, value), { maxLength: 5 })
    .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${encode(k)}=${v}`).join('&')}` : ''));
}

/** A path segment where an id (or a token, or a part number) belongs. */
export function pathSegment(real: string[] = []): fc.Arbitrary<string> {
  return fc.oneof(
    {
      arbitrary: fc.constantFrom(
        '0',
        '-1',
        '1.5',
        '1e3',
        '0x1',
        '2147483647',
        '2147483648',
        '99999999999999999999999',
        'abc',
        'null',
        '%00',
        '%',
        '%zz',
        '%2e%2e',
        '%2F',
        '%20',
        '%F0%9F%99%82',
        "1'%20OR%20'1'='1",
        '%3Cscript%3E',
        'x'.repeat(300),
      ),
      weight: 4,
    },
    { arbitrary: urlString.map(encode), weight: 2 },
    { arbitrary: fc.integer({ min: -5, max: 60 }).map(String), weight: 2 },
    ...(real.length ? [{ arbitrary: fc.constantFrom(...real), weight: 3 }] : []),
  );
}

/** urlencoded form bodies: field names from the form (with bracket variants), hostile values, duplicates. */
export function formBody(valid: Record<string, string>, extraKeys: string[] = []): fc.Arbitrary<string> {
  // A button-only form (delete, retry) still gets fields it does not expect.
  const keys = [...new Set([...Object.keys(valid), ...extraKeys, ...(Object.keys(valid).length ? [] : ['confirm', 'id'])])];
  const key = fc.oneof(
    { arbitrary: fc.constantFrom(...keys), weight: 5 },
    {
      arbitrary: fc.constantFrom(
        ...keys.map((k) => `${k}[]`),
        ...keys.map((k) => `${k}[0]`),
        'items[]',
        'items[0]',
        'items[99999999]',
        'items[-1][quantity]',
        'items[0][quantity][]',
        'items[a][cable_type]',
        'items[0][__proto__][x]',
        '__proto__[role]',
        'constructor[prototype][role]',
        'a[b][c][d][e][f][g][h]',
        '_csrf',
      ),
      weight: 2,
    },
    { arbitrary: anyKey, weight: 1 },
  );
  const urlencoded = (pairs: [string, string][]) => pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
  const mutated = fc.array(fc.tuple(key, hostileString), { minLength: 1, maxLength: 4 }).map((changes) => {
    const kept = Object.entries(valid).filter(([k]) => !changes.some(([c]) => c === k));
    return urlencoded([...kept, ...changes]);
  });
  const duplicated = fc
    .array(fc.tuple(key, hostileString), { minLength: 1, maxLength: 3 })
    .map((extra) => urlencoded([...Object.entries(valid), ...extra]));
  const random = fc.array(fc.tuple(key, hostileString), { maxLength: 6 }).map(urlencoded);
  const raw = fc.constantFrom(
    'a=%',
    '%=%',
    '&&&',
    '=',
    '==',
    'a',
    'a[=1',
    'a]=1',
    '%E0%A4%A=1',
    `a=${'%'.repeat(1000)}`,
    'a=1;b=2',
  );
  return fc.oneof(
    { arbitrary: mutated, weight: 4 },
    { arbitrary: duplicated, weight: 2 },
    { arbitrary: random, weight: 2 },
    { arbitrary: raw, weight: 1 },
  );
}

const contentType = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 10 },
  {
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/vnd.api+json',
      'multipart/form-data; boundary=x',
    ),
    weight: 1,
  },
);

/**
 * A form post (sometimes from htmx) with the session's CSRF token in the header htmx uses; with
 * `query`, some posts also carry a hostile query string of those names.
 */
export function formPost(
  csrf: string,
  path: fc.Arbitrary<string>,
  valid: Record<string, string>,
  opts: { extraKeys?: string[]; query?: string[] } = {},
): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      path,
      body: formBody(valid, opts.extraKeys),
      htmx: fc.boolean(),
      query: opts.query ? fc.option(queryString(opts.query), { freq: 6 }) : fc.constant(null),
    })
    .map(({ path: p, body, htmx, query }) => ({
      method: 'POST',
      path: p + (query ?? ''),
      body,
      contentType: 'application/x-www-form-urlencoded',
      headers: { 'x-csrf-token': csrf, ...(htmx ? { 'hx-request': 'true' } : {}) },
    }));
}

/** A page asked for with a hostile query string of those names (and sometimes by htmx). */
export function pageGet(path: fc.Arbitrary<string>, names: string[]): fc.Arbitrary<FuzzRequest> {
  return fc.record({ path, query: queryString(names), htmx: fc.boolean() }).map(({ path: p, query, htmx }) => ({
    method: 'GET',
    path: p + query,
    headers: (htmx ? { 'hx-request': 'true' } : {}) as Record<string, string>,
  }));
}

/** A JSON API request: a path (with hostile segments), an optional query string and an optional body. */
export function api(
  method: string,
  path: fc.Arbitrary<string>,
  opts: { query?: string[]; body?: Record<string, unknown>; extraKeys?: string[] } = {},
): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      path,
      query: opts.query ? queryString(opts.query) : fc.constant(''),
      body: opts.body ? fc.option(jsonBody(opts.body, opts.extraKeys), { freq: 12 }) : fc.constant(null),
      type: contentType,
    })
    .map(({ path: p, query, body, type }) => ({
      method,
      path: p + query,
      body: body ?? undefined,
      contentType: body === null ? undefined : type,
    }));
}

export interface FuzzRequest {
  method: string;
  path: string;
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Send with this client instead of the target's (a fresh session for sign-in forms). */
  client?: Client;
}

export interface FuzzTarget {
  name: string;
  client: Client;
  requests: fc.Arbitrary<FuzzRequest>;
  numRuns: number;
  /** 'json': errors are `{error, fields?}`; 'html': errors are pages (or forms) with a role=alert message. */
  audience: 'json' | 'html';
  /** The app's log lines: a 5xx is reported with the error it logged. */
  logs?: string[];
  /** Adds headers just before sending (a fresh CSRF token, a Twilio signature over the body). */
  prepare?: (req: FuzzRequest) => FuzzRequest | Promise<FuzzRequest>;
}

/** Why a reply breaks the contract, or undefined when it keeps it. */
export function contractBreach(reply: Reply, audience: 'json' | 'html'): string | undefined {
  if (reply.status >= 500) return `a ${reply.status}`;
  if (reply.status < 400) return undefined;
  const type = reply.headers.get('content-type') ?? '';
  if (audience === 'json') {
    const body = reply.json;
    if (!type.includes('application/json') || !body || typeof body !== 'object') return `a ${reply.status} that is not JSON`;
    if (typeof body.error !== 'string' || body.error.length < 3) return `a ${reply.status} without an {error} sentence`;
    const extra = Object.keys(body).filter((k) => k !== 'error' && k !== 'fields');
    if (extra.length) return `a ${reply.status} with unexpected keys ${extra.join(', ')}`;
    if (body.fields !== undefined) {
      if (!body.fields || typeof body.fields !== 'object' || Array.isArray(body.fields)) return 'fields is not an object';
      if (!Object.values(body.fields).every((v) => typeof v === 'string')) return 'a field message is not a sentence';
    }
    if (/\bat .+:\d+:\d+\)?$/m.test(reply.text)) return 'a stack trace in the body';
    return undefined;
  }
  if (!type.includes('text/html')) return `a ${reply.status} that is not an HTML page`;
  if (!reply.$('[role=alert]').text().trim()) return `a ${reply.status} page without a message`;
  if (/\bat .+:\d+:\d+\)?$/m.test(reply.text)) return 'a stack trace in the page';
  return undefined;
}

/** Counts cases across a test file, for the README's figures. */
export const fuzzTally = { cases: 0, endpoints: 0 };

/**
 * Runs `target.numRuns` hostile requests. Each must keep the contract (no 5xx, the documented error
 * shape) and a rejected one (4xx) must leave every table as it was. A snapshot is taken once and
 * again only after an accepted request, so each case costs one request and one snapshot.
 */
export async function fuzz(t: ExecutionContext, db: Db, target: FuzzTarget): Promise<void> {
  const tables = await tableNames(db);
  let baseline: Snapshot = await snapshot(db, tables);
  const statuses = new Map<number, number>();
  const numRuns = Math.ceil(target.numRuns * RUNS_FACTOR);
  const details = await fc.check(
    fc.asyncProperty(target.requests, async (generated) => {
      const req = target.prepare ? await target.prepare(generated) : generated;
      const headers: Record<string, string> = { ...req.headers };
      if (req.contentType) headers['content-type'] = req.contentType;
      if (target.audience === 'json') headers.accept ??= 'application/json';
      let reply: Reply;
      try {
        reply = await (req.client ?? target.client).request(req.method, req.path, { body: req.body, headers });
      } catch (err) {
        // fetch refuses some URLs and headers itself (they never reach the server): not the app's doing.
        if (err instanceof TypeError && /URL|header/i.test(String(err.message))) return;
        throw err;
      }
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      const breach = contractBreach(reply, target.audience);
      if (breach) {
        const logged =
          reply.status >= 500
            ? target.logs
                ?.filter((l) => l.includes('"level":50'))
                .at(-1)
                ?.slice(0, 1500)
            : '';
        throw new Error(`${breach}: ${reply.status} ${reply.text.slice(0, 300)}${logged ? `\n  logged: ${logged}` : ''}`);
      }
      const after = await snapshot(db, tables);
      if (reply.status >= 400) {
        const changed = changedTables(baseline, after);
        if (changed.length) throw new Error(`a rejected request (${reply.status}) changed ${changed.join(', ')}`);
      }
      baseline = after;
      // Nothing the request carried may reach Object.prototype (the app runs in this process).
      const probe = {} as Record<string, unknown>;
      if (probe.role !== undefined || probe.isAdmin !== undefined || probe.x !== undefined) {
        throw new Error('Object.prototype was polluted');
      }
    }),
    { numRuns, seed: FUZZ_SEED, endOnFailure: true },
  );
  if (details.failed) {
    const shown = JSON.stringify(details.counterexample?.[0], (_k, v) =>
      typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}…(${v.length} chars)` : v,
    );
    const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    t.fail(`${target.name}: ${error}\n  request: ${shown}\n  seed ${details.seed}, path ${details.counterexamplePath}`);
    return;
  }
  // Cases fetch refused before sending do not count: most must reach the app, or this proved nothing.
  const sent = [...statuses.values()].reduce((a, b) => a + b, 0);
  t.true(sent >= numRuns * 0.9, `${target.name}: ${sent} of ${numRuns} cases reached the app`);
  fuzzTally.cases += sent;
  fuzzTally.endpoints += 1;
  t.log(
    `${target.name}: ${sent} cases, statuses ${[...statuses]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}×${n}`)
      .join(' ')}`,
  );
}
