import test from 'ava';
import { isPostgres, migrateLatest, prepared } from '../src/db/index.ts';
import { freshDatabase } from './support/app.ts';
import { createUser } from './support/factories.ts';

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
