import test from 'ava';
import pg from 'pg';
import { isPostgres, migrateLatest, prepared } from '../src/db/index.ts';
import { freshDatabase, onPostgres, startApp, type TestApp } from './support/app.ts';
import { buildCast, createUser } from './support/factories.ts';

test('prepared statements: one shape with other SQL (more rows, other columns) is another statement, on one connection', async (t) => {
  const database = await freshDatabase();
  t.teardown(() => database.drop());
  const { db } = database;
  await migrateLatest(db);
  const [a, b] = [await createUser(db, { username: 'ann' }), await createUser(db, { username: 'bob' })];
  const names = (ids: number[], trx = db) =>
    prepared(trx('users').select('username').whereIn('id', ids).orderBy('id'), 'people').then((rows) =>
      rows.map((r: { username: string }) => r.username),
    );

  await db.transaction(async (trx) => {
    // A transaction is one connection: both texts are prepared on it under the one shape.
    t.deepEqual(await names([a.id], trx), ['ann']);
    t.deepEqual(await names([a.id, b.id], trx), ['ann', 'bob']);
    t.deepEqual(await names([b.id], trx), ['bob'], 'the first text again, other values');
    await prepared(trx('ticket_counts').where({ status: 'closed' }).increment('n', 1), 'count_move');
    await prepared(trx('ticket_counts').where({ status: 'closed' }).increment('n', -1), 'count_move');
    if (!isPostgres(db)) return; // SQLite runs the query as it is
    const statements = (
      await trx.raw<{ rows: { name: string }[] }>("select name from pg_prepared_statements where name like 'ct_people_%'")
    ).rows;
    t.is(statements.length, 2, 'one statement per SQL text');
  });
  const closed = (await db('ticket_counts').where({ status: 'closed' }).first('n')) as { n: number | string };
  t.is(Number(closed.n), 0, 'a prepared update ran, once each way');
});

/** Every statement the pg driver sends with a name (a server-side prepared statement), while `run` runs. */
async function namedStatementsDuring(run: () => Promise<void>): Promise<string[]> {
  const named: string[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as { name?: string } | string;
    if (typeof config === 'object' && config?.name) named.push(config.name);
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await run();
  } finally {
    pg.Client.prototype.query = original;
  }
  return named;
}

/** Sign-in (rate limited), a request filed, listed, read, decided, fulfilled, and the dashboard. */
async function everydayTraffic(app: TestApp) {
  const { boss, tech, stock } = await buildCast(app, { boss: { role: 'admin', browser: true }, tech: {}, stock: {} });
  const created = await tech.api.send('POST', '/api/tickets', {
    assigned_to_id: stock.user.id,
    location: 'Riser 2',
    items: [{ cable_type: 'Cat6', cable_length: '10ft', quantity: 1 }],
  });
  const id = created.json.ticket.id as number;
  for (const status of ['approved', 'in_progress', 'fulfilled']) await stock.api.send('PATCH', `/api/tickets/${id}`, { status });
  const answers = await Promise.all([
    tech.api.get('/api/tickets'),
    tech.api.get(`/api/tickets/${id}`),
    boss.browser.get('/'),
    boss.browser.get('/inventory'),
  ]);
  return [created.status, ...answers.map((a) => a.status)];
}

if (onPostgres) {
  test.serial('PostgreSQL: the app names its hot statements by default', async (t) => {
    const app = await startApp();
    t.teardown(() => app.close());
    let statuses: number[] = [];
    const named = await namedStatementsDuring(async () => {
      statuses = await everydayTraffic(app);
    });
    t.deepEqual(statuses, [201, 200, 200, 200, 200]);
    t.true(named.length > 0, 'statements were named');
  });

  test.serial('PostgreSQL: with DATABASE_PREPARED_STATEMENTS=false no statement is named, rate limits included', async (t) => {
    const app = await startApp({ DATABASE_PREPARED_STATEMENTS: 'false' });
    t.teardown(() => app.close());
    let statuses: number[] = [];
    const named = await namedStatementsDuring(async () => {
      statuses = await everydayTraffic(app);
    });
    t.deepEqual(statuses, [201, 200, 200, 200, 200]);
    t.deepEqual(named, []);
    const counted = (await app.db('rate_limits').count({ n: '*' }).first()) as { n: number | string };
    t.true(Number(counted.n) > 0, 'sign-ins were counted in the shared table');
  });
}
