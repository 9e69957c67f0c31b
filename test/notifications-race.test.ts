import test from 'ava';
import { loadConfig, parseDatabaseUrl } from '../src/config.ts';
import { createDb, type Db, migrateLatest } from '../src/db/index.ts';
import { enqueue } from '../src/features/notifications/outbox.ts';
import { type BatchReport, NotificationWorker } from '../src/features/notifications/worker.ts';
import { createLogger } from '../src/logger.ts';
import { freshDatabase, onPostgres, type TestDb } from './support/app.ts';
import { type FakeProviders, startFakeProviders } from './support/fake-providers.ts';

/**
 * Two workers, each with its own connection pool (as two processes would have), drain the same 200
 * rows at once. On PostgreSQL they claim with FOR UPDATE SKIP LOCKED; on SQLite the single writer
 * serialises the claims. Either way every row is claimed once and sent once.
 */

let database: TestDb;
let second: Db;
let fake: FakeProviders;

test.before(async () => {
  database = await freshDatabase();
  await migrateLatest(database.db);
  const parsed = parseDatabaseUrl(database.databaseUrl);
  second = createDb(parsed, { schema: database.schema, poolMax: 10 });
  fake = await startFakeProviders();
});
test.after.always(async () => {
  await second?.destroy();
  await database?.drop();
  await fake?.close();
});

const ROWS = 200;

async function drain(worker: NotificationWorker): Promise<BatchReport[]> {
  const reports: BatchReport[] = [];
  for (;;) {
    const report = await worker.runOnce();
    if (report.claimed === 0) return reports;
    reports.push(report);
  }
}

test(`two workers racing over ${ROWS} rows send each exactly once (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, async (t) => {
  await enqueue(
    database.db,
    Array.from({ length: ROWS }, (_, n) => ({
      notification_type: 'race',
      channel: 'email' as const,
      recipient: { id: null, email: `r${n}@example.test`, phone: null },
      subject: `message ${n}`,
      text: `body ${n}`,
    })),
  );
  const settings = loadConfig({ ...fake.env(['resend']), NOTIFY_BATCH_SIZE: '20', NOTIFY_CONCURRENCY: '10' }).notifications;
  const logger = createLogger('silent');
  const workers = [database.db, second].map((db) => new NotificationWorker({ db, logger, settings }));
  const [a, b] = await Promise.all(workers.map(drain));
  const claimed = [...(a ?? []), ...(b ?? [])].reduce((n, r) => n + r.claimed, 0);
  const sent = [...(a ?? []), ...(b ?? [])].reduce((n, r) => n + r.sent, 0);
  t.is(claimed, ROWS, 'no row was claimed by both workers');
  t.is(sent, ROWS);

  const perKey = new Map<string, number>();
  for (const request of fake.of('resend')) {
    const key = String(request.headers['idempotency-key']);
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
  }
  t.is(perKey.size, ROWS, 'one idempotency key per row');
  t.deepEqual([...new Set(perKey.values())], [1], 'each key reached the provider exactly once');
  const recipients = new Set(fake.of('resend').map((r) => String([r.body.to].flat()[0])));
  t.is(recipients.size, ROWS);

  const statuses: { status: string; n: number | string }[] = await database
    .db('notifications')
    .select('status')
    .count({ n: '*' })
    .groupBy('status');
  t.deepEqual(
    statuses.map((s) => [s.status, Number(s.n)]),
    [['sent', ROWS]],
  );
  const attempts = await database.db('notifications').max({ m: 'attempts' }).first();
  t.is(Number(attempts?.m), 1);
});
