import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import test from 'ava';
import { startApp, type TestApp } from './support/app.ts';
import { Client, type Reply } from './support/client.ts';
import { createUser, signedInClient, tokenClient } from './support/factories.ts';
import { rawRequest } from './support/raw.ts';

/** The HTTP spine: error shapes, body limits, security headers, Vary, request ids, static assets, compression. */

let app: TestApp;
test.before(async () => {
  app = await startApp();
});
test.after.always(async () => {
  await app?.close();
});

const NOT_FOUND = 'There is nothing at this address.';

// --- error shapes ---

test('an unknown /api route is 404 JSON {error}', async (t) => {
  for (const accept of ['application/json', 'text/html', '*/*']) {
    const res = await new Client(app.url).get('/api/no-such-thing', { accept });
    t.is(res.status, 404, accept);
    t.regex(res.headers.get('content-type') ?? '', /^application\/json/);
    t.deepEqual(res.json, { error: NOT_FOUND });
  }
});

test('an unknown page asked for with Accept: application/json is 404 JSON', async (t) => {
  const res = await new Client(app.url).get('/no-such-page', { accept: 'application/json' });
  t.is(res.status, 404);
  t.deepEqual(res.json, { error: NOT_FOUND });
});

test('an unknown page for a browser is a 404 page in the layout', async (t) => {
  const res = await new Client(app.url).get('/no-such-page', { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
  t.is(res.status, 404);
  t.regex(res.headers.get('content-type') ?? '', /^text\/html/);
  t.regex(res.text, /^<!doctype html>/i);
  t.is(res.$('title').text(), 'Not found · Cable Ticketing');
  t.is(res.$('header .brand').text(), 'Cable Ticketing');
  t.is(res.$('main h1').text(), 'Not found');
  t.is(res.$('main [role=alert] p').text(), NOT_FOUND);
  t.is(res.$('link[rel=stylesheet]').length, 1);
});

test('an unknown page for htmx is a fragment without the layout', async (t) => {
  const res = await new Client(app.url).get('/no-such-page', { 'hx-request': 'true' });
  t.is(res.status, 404);
  t.false(/<html|<head|<body|<!doctype/i.test(res.text));
  t.is(res.$('.alert.error[role=alert] p').text(), NOT_FOUND);
  const restore = await new Client(app.url).get('/no-such-page', { 'hx-request': 'true', 'hx-history-restore-request': 'true' });
  t.regex(restore.text, /^<!doctype html>/i, 'a history restore gets the whole page');
});

test('the error page in the layout knows who is signed in', async (t) => {
  const user = await createUser(app.db);
  const browser = await signedInClient(app.url, user.username);
  const res = await browser.get('/no-such-page');
  t.is(res.status, 404);
  t.is(res.$('header form[action="/logout"] button').attr('title'), `Signed in as ${user.username}`);
  t.is(res.$('main a[href="/"]').text(), 'Back to requests');
});

test('a wrong method on a known route is 405 with a JSON error', async (t) => {
  const res = await new Client(app.url).send('DELETE', '/api/health');
  t.is(res.status, 405);
  t.deepEqual(Object.keys(res.json), ['error']);
  const put = await new Client(app.url).send('PUT', '/api/users');
  t.is(put.status, 405);
  t.regex(put.headers.get('allow') ?? '', /GET/);
});

test('malformed JSON is 400 {error}, never a stack trace', async (t) => {
  const client = new Client(app.url);
  for (const body of ['{bad', '{"username": "a",}', 'null', '"just a string"']) {
    const res = await client.request('POST', '/api/login', { body, headers: { 'content-type': 'application/json' } });
    t.is(res.status, 400, body);
    t.deepEqual(res.json, { error: 'The request body is not valid JSON.' }, body);
    t.false(res.text.includes('    at '), 'no stack trace');
  }
});

test('a NUL byte in text is never a 500 (PostgreSQL cannot store it: 400 {error})', async (t) => {
  const user = await createUser(app.db);
  const api = await tokenClient(app.url, user.username);
  const browser = await signedInClient(app.url, user.username);
  const replies: [string, Reply][] = [
    [
      'ticket',
      await api.send('POST', '/api/tickets', {
        assigned_to_id: user.id,
        location: 'a\u0000b',
        cable_type: 'Cat6',
        cable_length: '1m',
      }),
    ],
    ['search', await api.get('/api/tickets?q=%00')],
    ['search page', await browser.get('/?q=a%00b')],
    ['sign-in', await new Client(app.url).send('POST', '/api/login', { username: 'some\u0000one', password: 'whatever' })],
  ];
  for (const [label, res] of replies) {
    t.true(res.status === 400 || res.status === 401, `${label}: ${res.status}`);
    // Refused at the edge (the field is named) or, for anything that slips past, by the database.
    if (label !== 'search page') t.is(typeof res.json.error, 'string', label);
  }
});

test('a body over BODY_LIMIT_KB is 413', async (t) => {
  const small = await startApp({ BODY_LIMIT_KB: '1' });
  t.teardown(() => small.close());
  const client = new Client(small.url);
  const big = await client.send('POST', '/api/login', { username: 'someone', password: 'x'.repeat(2000) });
  t.is(big.status, 413);
  t.deepEqual(big.json, { error: 'The request body is too large.' });
  const under = await client.send('POST', '/api/login', { username: 'someone', password: 'x'.repeat(100) });
  t.is(under.status, 401, 'a body under the limit is read');
  const form = await client.postForm('/login', { username: 'someone', password: 'x'.repeat(2000) }, { accept: 'text/html' });
  t.is(form.status, 413);
  t.is(form.$('main h1').text(), 'Too large');
});

// --- headers ---

function assertSecurityHeaders(t: import('ava').ExecutionContext, res: Reply, label: string) {
  const csp = res.headers.get('content-security-policy') ?? '';
  t.regex(csp, /(^|;\s*)script-src 'self'(;|$)/, label);
  t.false(csp.includes('unsafe-inline'), label);
  t.false(csp.includes('unsafe-eval'), label);
  t.regex(csp, /frame-ancestors 'none'/, label);
  t.is(res.headers.get('x-content-type-options'), 'nosniff', label);
  t.is(res.headers.get('x-frame-options'), 'DENY', label);
  t.truthy(res.headers.get('referrer-policy'), label);
}

test('security headers are on pages, JSON, errors and assets; stylesheets and scripts skip the document-only ones', async (t) => {
  const client = new Client(app.url);
  const login = await client.get('/login');
  const css = login.$('link[rel=stylesheet]').attr('href') ?? '';
  const replies: [string, Reply][] = [
    ['page', login],
    ['json', await client.get('/api/health')],
    ['404', await client.get('/nope')],
    ['api 404', await client.get('/api/nope')],
    // An SVG opened by itself is a document that could run script: it keeps the whole set.
    ['svg', await client.get(login.$('link[rel=icon]').attr('href') ?? '')],
    ['service worker', await client.get('/sw.js')],
  ];
  for (const [label, res] of replies) assertSecurityHeaders(t, res, label);
  const scripts = login
    .$('script[src]')
    .map((_, el) => login.$(el).attr('src'))
    .get();
  t.true(scripts.length >= 2);
  for (const url of [css, ...scripts]) {
    const res = await client.get(url);
    t.is(res.status, 200, url);
    t.is(res.headers.get('x-content-type-options'), 'nosniff', url);
    t.is(res.headers.get('cross-origin-resource-policy'), 'same-origin', url);
    t.truthy(res.headers.get('referrer-policy'), url);
    for (const name of ['content-security-policy', 'x-frame-options', 'cross-origin-opener-policy', 'permissions-policy']) {
      t.is(res.headers.get(name), null, `${url}: ${name}`);
    }
  }
});

test('pages carry no inline script, no inline style and no CDN URL', async (t) => {
  const admin = await createUser(app.db, { role: 'admin' });
  const browser = await signedInClient(app.url, admin.username);
  const pages = [
    await new Client(app.url).get('/login'),
    await new Client(app.url).get('/register'),
    await new Client(app.url).get('/nope'),
    await browser.get('/admin/users'),
    await browser.get('/register'),
  ];
  for (const page of pages) {
    t.true(page.$('script').length > 0);
    page.$('script').each((_, el) => {
      t.regex(page.$(el).attr('src') ?? '', /^\/assets\//);
      t.is(page.$(el).text().trim(), '');
    });
    t.is(page.$('style').length, 0);
    t.is(page.$('[style]').length, 0);
    const handlers = page
      .$('*')
      .filter((_, el) => Object.keys((el as { attribs?: object }).attribs ?? {}).some((a) => /^on/i.test(a)));
    t.is(handlers.length, 0);
    page.$('script[src], link[href]').each((_, el) => {
      const url = page.$(el).attr('src') ?? page.$(el).attr('href') ?? '';
      t.false(/^(https?:)?\/\//i.test(url), url);
    });
  }
});

test('pages and errors vary on Accept and HX-Request', async (t) => {
  const client = new Client(app.url);
  for (const res of [
    await client.get('/login'),
    await client.get('/register'),
    await client.get('/nope'),
    await client.get('/api/nope'),
  ]) {
    const vary = (res.headers.get('vary') ?? '').split(/\s*,\s*/).map((v) => v.toLowerCase());
    t.true(vary.includes('accept'), vary.join());
    t.true(vary.includes('hx-request'), vary.join());
  }
});

test('X-Request-Id is echoed when sane, replaced when not, and logged', async (t) => {
  const client = new Client(app.url);
  const echoed = await client.get('/api/health', { 'x-request-id': 'trace-abc.123_XYZ' });
  t.is(echoed.headers.get('x-request-id'), 'trace-abc.123_XYZ');
  t.true(app.logs.some((l) => l.includes('"reqId":"trace-abc.123_XYZ"')));
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  for (const bad of ['has spaces in it', 'x'.repeat(65), '<script>']) {
    const res = await client.get('/api/health', { 'x-request-id': bad });
    t.regex(res.headers.get('x-request-id') ?? '', uuid, bad);
  }
  const fresh = await client.get('/login');
  t.regex(fresh.headers.get('x-request-id') ?? '', uuid);
});

// --- static assets ---

const ASSET = /^\/assets\/[a-z0-9/._-]+\.[0-9a-f]{10}\.(css|js|svg)$/;

async function layoutAssets(): Promise<string[]> {
  const page = await new Client(app.url).get('/login');
  const urls = [
    page.$('link[rel=stylesheet]').attr('href'),
    page.$('link[rel=icon]').attr('href'),
    ...page.$('script[src]').map((_, el) => page.$(el).attr('src')),
  ];
  return urls.filter((u): u is string => typeof u === 'string');
}

test('the layout links fingerprinted assets served with a year-long immutable cache', async (t) => {
  const urls = await layoutAssets();
  // The stylesheet, the icon, htmx and the app's two scripts (src/client, minified into public/js).
  t.is(urls.length, 5);
  const types: Record<string, RegExp> = { css: /^text\/css/, js: /^text\/javascript/, svg: /^image\/svg\+xml/ };
  for (const url of urls) {
    t.regex(url, ASSET);
    const res = await rawRequest(app.url, url);
    t.is(res.status, 200, url);
    t.is(res.headers['cache-control'], 'public, max-age=31536000, immutable', url);
    t.regex(String(res.headers['content-type']), types[url.split('.').pop() ?? ''] ?? /^$/, url);
    t.true(res.body.length > 0);
  }
});

test('assets are sent gzipped or brotli-compressed when asked, identical once decoded', async (t) => {
  for (const url of await layoutAssets()) {
    const plain = await rawRequest(app.url, url);
    t.is(plain.headers['content-encoding'], undefined);
    const gz = await rawRequest(app.url, url, { headers: { 'accept-encoding': 'gzip' } });
    t.is(gz.headers['content-encoding'], 'gzip', url);
    t.true(gunzipSync(gz.body).equals(plain.body), url);
    t.regex(String(gz.headers.vary), /accept-encoding/i);
    const br = await rawRequest(app.url, url, { headers: { 'accept-encoding': 'br, gzip' } });
    t.is(br.headers['content-encoding'], 'br', url);
    t.true(brotliDecompressSync(br.body).equals(plain.body), url);
  }
});

test('an asset answers 304 to its ETag', async (t) => {
  const [url] = await layoutAssets();
  const first = await rawRequest(app.url, url ?? '');
  const etag = String(first.headers.etag);
  t.regex(etag, /^"[0-9a-f]{10}"$/);
  const again = await rawRequest(app.url, url ?? '', { headers: { 'if-none-match': etag } });
  t.is(again.status, 304);
  t.is(again.body.length, 0);
  // A cache may send several tags, or the weak form of ours (RFC 9110's weak comparison).
  const listed = await rawRequest(app.url, url ?? '', { headers: { 'if-none-match': `"0000000000", W/${etag}` } });
  t.is(listed.status, 304);
  const other = await rawRequest(app.url, url ?? '', { headers: { 'if-none-match': '"0000000000"' } });
  t.is(other.status, 200);
});

test('htmx is served from /assets/vendor, byte for byte the npm package, never from a CDN', async (t) => {
  const page = await new Client(app.url).get('/login');
  const src = page.$('script[src]').attr('src') ?? '';
  t.regex(src, /^\/assets\/vendor\/htmx\.min\.[0-9a-f]{10}\.js$/);
  t.not(page.$('script[src]').attr('defer'), undefined, 'loaded with defer');
  const served = await rawRequest(app.url, src);
  t.is(served.status, 200);
  const require = createRequire(import.meta.url);
  const pkg = path.dirname(require.resolve('htmx.org/package.json'));
  t.true(served.body.equals(readFileSync(path.join(pkg, 'dist', 'htmx.min.js'))));
  t.false(/unpkg|jsdelivr|cdnjs|cdn\./i.test(page.text));
});

test('an unknown fingerprint and an unfingerprinted name are handled as the asset map says', async (t) => {
  const [css] = await layoutAssets();
  const wrongHash = (css ?? '').replace(/\.[0-9a-f]{10}\./, '.0000000000.');
  t.is((await rawRequest(app.url, wrongHash)).status, 404);
  t.is((await rawRequest(app.url, '/assets/app.css')).status, 404);
  const plainName = await rawRequest(app.url, '/app.css');
  t.is(plainName.status, 200);
  t.is(plainName.headers['cache-control'], 'public, max-age=300', 'only fingerprinted names are immutable');
});

test('path traversal never reaches files outside public/', async (t) => {
  const paths = [
    '/assets/../package.json',
    '/../package.json',
    '/%2e%2e/package.json',
    '/assets/%2e%2e/package.json',
    '/assets/%2e%2e%2fpackage.json',
    '/assets/..%2f..%2fpackage.json',
    '/assets/vendor/../../package.json',
    '/assets/..\\package.json',
    '/vendor/../../package.json',
    '/package.json',
    '/src/app.ts',
    '/.env',
  ];
  for (const p of paths) {
    const res = await rawRequest(app.url, p);
    t.is(res.status, 404, p);
    t.false(res.body.toString().includes('"cable-ticketing"'), p);
    t.false(res.body.toString().includes('createApp'), p);
  }
});

// --- compression ---

test('a large page is gzip-compressed when the client asks', async (t) => {
  const admin = await createUser(app.db, { role: 'admin' });
  await Promise.all(Array.from({ length: 25 }, () => createUser(app.db)));
  const browser = await signedInClient(app.url, admin.username);
  const gz = await rawRequest(app.url, '/admin/users', {
    headers: { cookie: browser.cookieHeader(), 'accept-encoding': 'gzip' },
  });
  t.is(gz.status, 200);
  t.is(gz.headers['content-encoding'], 'gzip');
  const html = gunzipSync(gz.body).toString();
  t.true(html.includes(admin.username));
  t.true(gz.body.length < html.length / 2);
  const plain = await rawRequest(app.url, '/admin/users', { headers: { cookie: browser.cookieHeader() } });
  t.is(plain.headers['content-encoding'], undefined);
  // Each render salts its CSRF tokens and makes new Idempotency-Keys; apart from them the pages are the same.
  const unsalted = (s: string) =>
    s.replace(/"X-CSRF-Token":"[^"]+"|name="_csrf" value="[^"]+"|name="idempotency_key" value="[^"]+"/g, '');
  t.is(unsalted(plain.body.toString()), unsalted(html));
});

test('the sign-in page with its CSS and htmx is under 25 KB compressed', async (t) => {
  const page = await rawRequest(app.url, '/login', { headers: { 'accept-encoding': 'gzip' } });
  t.is(page.headers['content-encoding'], 'gzip');
  let total = page.body.length;
  for (const url of await layoutAssets()) {
    const asset = await rawRequest(app.url, url, { headers: { 'accept-encoding': 'gzip' } });
    total += asset.body.length;
  }
  t.true(total < 25 * 1024, `${total} bytes`);
});
