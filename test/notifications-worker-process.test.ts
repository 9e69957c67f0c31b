import { spawn } from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import { migrateLatest } from '../src/db/index.ts';
import { enqueue } from '../src/features/notifications/outbox.ts';
import { projectRoot } from '../src/paths.ts';
import { freshDatabase, type TestDb } from './support/app.ts';
import { type FakeProviders, RESEND_KEY, startFakeProviders, TWILIO_TOKEN } from './support/fake-providers.ts';

/** `npm run worker` as its own process: delivers the outbox, and on SIGTERM stops cleanly (exit 0). */

let database: TestDb;
let fake: FakeProviders;

test.before(async () => {
  database = await freshDatabase();
  await migrateLatest(database.db);
  fake = await startFakeProviders();
});
test.after.always(async () => {
  await database?.drop();
  await fake?.close();
});

/** The worker process sees the test's schema through the connection's search_path. */
const databaseUrlForChild = () =>
  database.schema
    ? `${database.databaseUrl}${database.databaseUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${database.schema}`)}`
    : database.databaseUrl;

test('the worker process delivers queued rows and exits 0 on SIGTERM', async (t) => {
  await enqueue(database.db, [
    {
      notification_type: 'test',
      channel: 'email',
      recipient: { id: null, email: 'someone@example.test', phone: '+12025550199' },
      subject: 'Hello',
      text: 'A message from the worker process test.',
    },
    {
      notification_type: 'test',
      channel: 'sms',
      recipient: { id: null, email: 'someone@example.test', phone: '+12025550199' },
      text: 'An SMS from the worker process test.',
    },
  ]);
  const arrived = Promise.all([fake.next('resend'), fake.next('twilio')]);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'src/worker-main.ts')], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATABASE_URL: databaseUrlForChild(),
      NOTIFY_POLL_MS: '50',
      ...fake.env(),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr.on('data', (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  await arrived;
  // The provider has the messages; wait (by polling the database, not by timing) until both are recorded.
  for (;;) {
    const open = await database.db('notifications').whereNot({ status: 'sent' }).count({ n: '*' }).first();
    if (Number(open?.n) === 0) break;
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGTERM');
  t.is(await exited, 0, output);
  const rows = await database.db('notifications').orderBy('id');
  t.deepEqual(
    rows.map((r) => [r.channel, r.status, r.provider]),
    [
      ['email', 'sent', 'resend'],
      ['sms', 'sent', 'twilio'],
    ],
  );
  t.regex(output, /notification worker started/);
  t.regex(output, /notification worker stopped/);
  for (const secret of [RESEND_KEY, TWILIO_TOKEN, '+12025550199', 'someone@example.test']) {
    t.false(output.includes(secret), `the worker's output must not contain ${secret}`);
  }
});
