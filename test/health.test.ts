import test from 'ava';
import { parseDatabaseUrl } from '../src/config.ts';
import { createDb, migrateLatest } from '../src/db/index.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { createUser, signedInClient } from './support/factories.ts';
import { scratchDatabase } from './support/scratch-db.ts';
import { startServerProcess } from './support/server-process.ts';

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

test('readiness waits for the schema: 503 "migrating" while a migration is missing, 200 once it is in', async (t) => {
  const fresh = await startApp();
  t.teardown(() => fresh.close());
  const newest = (await fresh.db('knex_migrations').orderBy('name', 'desc').first()) as { name: string };
  await fresh.db('knex_migrations').where({ name: newest.name }).delete();
  const waiting = await new Client(fresh.url).get('/api/ready');
  t.is(waiting.status, 503);
  t.deepEqual(waiting.json, {
    error: 'The database schema is older than this version: migrations are pending.',
    status: 'migrating',
  });
  t.is((await new Client(fresh.url).get('/api/health')).status, 200, 'alive all the while');
  await fresh.db('knex_migrations').insert({ name: newest.name, batch: 2, migration_time: new Date().toISOString() });
  t.is((await new Client(fresh.url).get('/api/ready')).status, 200);
});

test('MIGRATE_ON_START=false: the process serves without migrating, not ready until a migration job has run', async (t) => {
  const scratch = await scratchDatabase(process.env.TEST_DATABASE_URL);
  t.teardown(() => scratch.drop());
  const server = await startServerProcess({ DATABASE_URL: scratch.url, MIGRATE_ON_START: 'false' });
  t.teardown(async () => {
    server.child.kill('SIGKILL');
    await server.exited;
  });
  const before = await new Client(server.url).get('/api/ready');
  t.is(before.status, 503);
  t.is(before.json.status, 'migrating');
  const job = createDb(parseDatabaseUrl(scratch.url));
  t.teardown(() => job.destroy());
  await migrateLatest(job);
  t.is((await new Client(server.url).get('/api/ready')).status, 200);
});
