import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { publicDir } from '../src/paths.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { createUser, signedInClient, tokenClient } from './support/factories.ts';

/**
 * Field mode over HTTP (DESIGN.md §14): the manifest and its icons, the service worker script and
 * what it keeps, the pages it keeps for everyone, and the session facts the offline queue asks for
 * before it sends (src/client/queue.js) with the request it then makes.
 */

let app: TestApp;
let approverId: number;

test.before(async () => {
  app = await startApp();
  await createUser(app.db, { username: 'field_tech' });
  approverId = (await createUser(app.db, { username: 'field_approver' })).id;
});
test.after.always(async () => {
  await app?.close();
});

/** A PNG's width and height, from its IHDR chunk. */
function pngSize(bytes: Buffer): string {
  if (bytes.subarray(1, 4).toString() !== 'PNG') throw new Error('not a PNG');
  return `${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`;
}

test('the manifest names the app, starts at /, stands alone, and each icon is there at its size', async (t) => {
  const anonymous = new Client(app.url);
  const res = await anonymous.get('/manifest.webmanifest');
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /^application\/manifest\+json/);
  const manifest = JSON.parse(res.text);
  t.like(manifest, { name: 'Cable Ticketing', start_url: '/', scope: '/', display: 'standalone', theme_color: '#0d2b4a' });
  const purposes = new Set<string>();
  for (const icon of manifest.icons as { src: string; sizes: string; type: string; purpose: string }[]) {
    const file = await fetch(app.url + icon.src);
    t.is(file.status, 200, icon.src);
    t.is(file.headers.get('content-type'), icon.type, icon.src);
    const bytes = Buffer.from(await file.arrayBuffer());
    if (icon.type === 'image/png') t.is(pngSize(bytes), icon.sizes, icon.src);
    purposes.add(`${icon.type} ${icon.sizes} ${icon.purpose}`);
  }
  // Chromium wants a 192 and a 512 px icon; Android's launchers a maskable one.
  t.true(purposes.has('image/png 192x192 any'));
  t.true(purposes.has('image/png 512x512 any'));
  t.true(purposes.has('image/png 512x512 maskable'));
  t.true(purposes.has('image/svg+xml any any'));
});

test('every page links the manifest and the app scripts, and says whom it was made for', async (t) => {
  const signIn = await new Client(app.url).get('/login');
  t.is(signIn.$('link[rel=manifest]').attr('href'), '/manifest.webmanifest');
  t.is(signIn.$('meta[name=theme-color]').attr('content'), '#0d2b4a');
  const scripts = signIn
    .$('script[src]')
    .map((_, s) => signIn.$(s).attr('src'))
    .get();
  t.true(scripts.some((s) => /^\/assets\/js\/queue\.[0-9a-f]{10}\.js$/.test(s)));
  t.true(scripts.some((s) => /^\/assets\/js\/app\.[0-9a-f]{10}\.js$/.test(s)));
  t.is(signIn.$('body').attr('data-user'), '', 'signed out: nobody');
  const tech = await signedInClient(app.url, 'field_tech');
  const dashboard = await tech.get('/');
  t.regex(dashboard.$('body').attr('data-user') ?? '', /^\d+$/);
  t.is(dashboard.$('body').attr('data-user-name'), 'field_tech');
  t.is(dashboard.$('#queued').attr('hidden'), 'hidden', 'the queued count shows only when something is queued');
  t.is(dashboard.$('form.ticket-form').attr('data-offline'), '', 'the request form can be queued');
  t.is((await tech.get('/optics')).$('form.optics-form[data-offline]').length, 1);
});

test('/sw.js: its settings, the files it keeps, its code; never cached by the browser', async (t) => {
  const res = await new Client(app.url).get('/sw.js');
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /^text\/javascript/);
  t.is(res.headers.get('cache-control'), 'no-cache');
  t.regex(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  const settings = JSON.parse(/self\.FIELD = (\{.*\});/.exec(res.text)?.[1] ?? 'null');
  t.regex(settings.version, /^[\w-]{12}$/);
  t.like(settings, { drafts: '/drafts' });
  const kept = settings.precache as string[];
  for (const pattern of [
    /^\/assets\/app\.\w+\.css$/,
    /^\/assets\/vendor\/htmx\.min\.\w+\.js$/,
    /^\/assets\/js\/app\.\w+\.js$/,
    /^\/assets\/js\/queue\.\w+\.js$/,
  ]) {
    t.true(
      kept.some((url) => pattern.test(url)),
      String(pattern),
    );
  }
  t.true(kept.includes('/drafts'));
  const imported = [...(/importScripts\((.*)\);/.exec(res.text)?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  t.is(imported.length, 2);
  t.true(imported.some((url) => /^\/assets\/js\/worker\.\w+\.js$/.test(url ?? '')));
  // Everything it keeps is there for a browser without a cookie (the worker asks without one for the pages).
  for (const url of [...kept, ...imported] as string[]) {
    const file = await fetch(app.url + url);
    t.is(file.status, 200, url);
    t.is(file.headers.get('set-cookie'), null, `${url} starts no session`);
  }
});

test('the drafts page (the worker’s offline page too) names nobody and lists the pages saved on the phone', async (t) => {
  const drafts = await new Client(app.url).get('/drafts');
  t.is(drafts.status, 200);
  t.is(drafts.$('body').attr('data-user'), undefined, 'a kept copy must not sign the phone out');
  t.is(drafts.headers.get('set-cookie'), null);
  t.deepEqual(
    drafts
      .$('.saved-pages a')
      .map((_, a) => drafts.$(a).attr('href'))
      .get(),
    ['/', '/?filter=mine', '/tickets/new', '/optics'],
  );
  t.regex(drafts.$('noscript').text(), /only with JavaScript on/);
  // Signed in, the page says who (so the list can tell this account's drafts from another's).
  const tech = await signedInClient(app.url, 'field_tech');
  t.regex((await tech.get('/drafts')).$('body').attr('data-user') ?? '', /^\d+$/);
});

test('the worker’s version follows the files it keeps: a changed stylesheet is a new version', async (t) => {
  const version = async (url: string) => /"version":"([^"]+)"/.exec((await new Client(url).get('/sw.js')).text)?.[1];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-public-'));
  try {
    cpSync(publicDir, dir, { recursive: true });
    const same = await startApp({}, { publicDir: dir });
    const sameVersion = await version(same.url);
    await same.close();
    writeFileSync(path.join(dir, 'app.css'), `${readFileSync(path.join(dir, 'app.css'), 'utf8')}\nmain { padding: 0; }\n`);
    const changed = await startApp({}, { publicDir: dir });
    const changedVersion = await version(changed.url);
    await changed.close();
    t.is(sameVersion, await version(app.url), 'the same files: the same worker');
    t.not(changedVersion, sameVersion);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GET /api/session: who is signed in and a CSRF token for this session, asked for just before sending', async (t) => {
  const anonymous = await new Client(app.url).send('GET', '/api/session');
  t.is(anonymous.status, 401);
  t.is(typeof anonymous.json.error, 'string');

  const tech = await signedInClient(app.url, 'field_tech');
  const session = await tech.send('GET', '/api/session');
  t.is(session.status, 200);
  t.is(session.headers.get('cache-control'), 'no-store');
  t.like(session.json, { user: { username: 'field_tech' } });
  t.is(typeof session.json.csrf_token, 'string');

  // What the queue sends: the form's fields, the key as a header, that token, asking for JSON.
  const key = randomUUID();
  const fields = new URLSearchParams({
    assignee_name: 'field_approver',
    priority: 'high',
    location: 'Queued from the field',
    'items[0][cable_type]': 'Cat6',
    'items[0][cable_length]': '100ft',
    'items[0][quantity]': '2',
  }).toString();
  const queued = () =>
    tech.request('POST', '/tickets', {
      body: fields,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        'idempotency-key': key,
        'x-csrf-token': session.json.csrf_token,
      },
    });
  const sent = await queued();
  t.is(sent.status, 201, sent.text);
  t.regex(sent.headers.get('location') ?? '', /^\/api\/tickets\/\d+$/);
  t.is(sent.json.ticket.assigned_to.id, approverId, 'the form’s assignee name is looked up');
  // Sent again (the answer was lost): the same ticket, once.
  const again = await queued();
  t.is(again.headers.get('idempotent-replayed'), 'true');
  t.is(again.json.ticket.id, sent.json.ticket.id);
  t.is((await app.db('tickets').where({ location: 'Queued from the field' })).length, 1);

  // A token from another session is refused: the queue must ask at send time.
  const other = await signedInClient(app.url, 'field_tech');
  const stale = await other.request('POST', '/tickets', {
    body: fields,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      'x-csrf-token': session.json.csrf_token,
    },
  });
  t.is(stale.status, 403);

  // A bearer token has no session: no CSRF token (none is needed).
  const api = await tokenClient(app.url, 'field_tech');
  const bearer = await api.send('GET', '/api/session');
  t.is(bearer.status, 200);
  t.is(bearer.json.csrf_token, null);
  t.is(bearer.headers.get('set-cookie'), null);
});
