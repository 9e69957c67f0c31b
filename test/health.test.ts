import test from 'ava';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { createUser, signedInClient } from './support/factories.ts';

/** Liveness never needs the database; readiness answers 503 when the database is gone. */

let app: TestApp;
test.before(async () => {
  app = await startApp();
});
test.after.always(async () => {
  await app?.close();
});

test('GET /api/health is {status: healthy, timestamp}', async (t) => {
  const started = Date.now();
  const res = await new Client(app.url).get('/api/health');
  t.is(res.status, 200);
  t.deepEqual(Object.keys(res.json).sort(), ['status', 'timestamp']);
  t.is(res.json.status, 'healthy');
  t.regex(res.json.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  t.true(Date.parse(res.json.timestamp) >= started - 1000);
  t.is(res.headers.get('cache-control'), 'no-store');
});

test('GET /api/ready is 200 when the database answers', async (t) => {
  const res = await new Client(app.url).get('/api/ready');
  t.is(res.status, 200);
  t.is(res.json.status, 'ready');
  t.is(res.headers.get('cache-control'), 'no-store');
});

test('health needs no sign-in and starts no session', async (t) => {
  const client = new Client(app.url);
  for (const path of ['/api/health', '/api/ready']) {
    const res = await client.get(path);
    t.is(res.status, 200, path);
    t.is(res.headers.getSetCookie().length, 0, path);
  }
});

test('with the database gone, readiness is 503 {error} and liveness still 200', async (t) => {
  const doomed = await startApp();
  let closed = false;
  t.teardown(async () => {
    if (!closed) await doomed.close().catch(() => undefined);
  });
  const client = new Client(doomed.url);
  t.is((await client.get('/api/ready')).status, 200);
  const user = await createUser(doomed.db);
  const browser = await signedInClient(doomed.url, user.username);
  await doomed.db.destroy();
  // A signed-in browser's cookie must not drag the probes into the session store.
  t.is((await browser.get('/api/health')).status, 200);
  t.is((await browser.get('/api/ready')).status, 503);
  const page = await browser.get('/');
  t.is(page.status, 503, 'a page that needs the database says the service is unavailable, not 500');
  t.regex(page.$('main').text(), /database cannot be reached/);
  const ready = await client.get('/api/ready');
  t.is(ready.status, 503);
  t.is(typeof ready.json.error, 'string');
  t.true(ready.json.error.length > 0);
  const live = await client.get('/api/health');
  t.is(live.status, 200);
  t.is(live.json.status, 'healthy');
  await t.notThrowsAsync(async () => {
    await doomed.close();
    closed = true;
  }, 'closing an app whose database is already closed');
});
