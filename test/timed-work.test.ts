import test from 'ava';
import { createDb, type Db, isPostgres } from '../src/db/index.ts';
import { createLogger } from '../src/logger.ts';
import { type TimedJob, TimedWork } from '../src/timed/runner.ts';
import { timedJobs } from '../src/worker.ts';
import { onPostgres, startApp, type TestApp } from './support/app.ts';
import { createUser } from './support/factories.ts';

/** Timed work: once per period across processes, a schedule that survives restarts, time passed in. */

let app: TestApp;
test.before(async () => {
  app = await startApp();
});
test.after.always(async () => {
  await app?.close();
});

const logger = createLogger('silent');
const HOUR = 3_600_000;
const at = (hours: number) => new Date(Date.UTC(2027, 0, 1) + hours * HOUR);

/** A job that counts its runs (and can be held open until `release` is called). */
function countingJob(name: string, everyMs = HOUR) {
  const runs: Date[] = [];
  let hold: Promise<void> | undefined;
  let release = () => {};
  const job: TimedJob = {
    name,
    everyMs,
    async run(now) {
      runs.push(now);
      await hold;
    },
  };
  return {
    job,
    runs,
    holdNextRun() {
      hold = new Promise((resolve) => {
        release = resolve;
      });
    },
    release: () => release(),
  };
}

/**
 * A second "process": its own connection pool on the same database (PostgreSQL), its connections named
 * `name` so a test can cut them; on SQLite, where one process owns the file, the same handle.
 */
function otherProcess(t: { teardown(fn: () => Promise<void>): void }, name = 'ct_other_process'): Db {
  if (!isPostgres(app.db)) return app.db;
  const url = new URL(process.env.TEST_DATABASE_URL as string);
  url.searchParams.set('application_name', name);
  const db = createDb({ client: 'pg', url: url.toString() }, { schema: app.db.client.config.searchPath[0] });
  t.teardown(() => db.destroy().catch(() => {}));
  return db;
}

test('a job runs when due, not again within its period, and again after it', async (t) => {
  const { job, runs } = countingJob('test.period');
  const work = new TimedWork({ db: app.db, logger, jobs: [job] });
  t.deepEqual(await work.runDue(at(0)), ['test.period']);
  t.deepEqual(await work.runDue(at(0.5)), []);
  t.deepEqual(await work.runDue(at(0.99)), []);
  t.deepEqual(await work.runDue(at(1)), ['test.period']);
  t.deepEqual(runs, [at(0), at(1)]);
  const row = await app.db('timed_runs').where({ name: 'test.period' }).first();
  t.is(new Date(row.next_run_at).toISOString(), at(2).toISOString());
  t.is(Number(row.runs), 2, 'the runs are counted');
});

test('the schedule survives a restart: a new runner does not repeat a job within its period', async (t) => {
  const first = countingJob('test.restart');
  await new TimedWork({ db: app.db, logger, jobs: [first.job] }).runDue(at(10));
  const second = countingJob('test.restart');
  const restarted = new TimedWork({ db: app.db, logger, jobs: [second.job] });
  t.deepEqual(await restarted.runDue(at(10.5)), []);
  t.deepEqual(await restarted.runDue(at(11)), ['test.restart']);
  t.is(first.runs.length + second.runs.length, 2);
});

test('two processes asking at the same moment: the job runs once', async (t) => {
  const a = countingJob('test.race');
  const b = countingJob('test.race');
  const one = new TimedWork({ db: app.db, logger, jobs: [a.job] });
  const two = new TimedWork({ db: otherProcess(t), logger, jobs: [b.job] });
  for (let hour = 20; hour < 25; hour++) {
    const ran = await Promise.all([one.runDue(at(hour)), two.runDue(at(hour))]);
    t.is(ran.flat().length, 1, `hour ${hour}`);
  }
  t.is(a.runs.length + b.runs.length, 5);
});

test('a job that throws keeps its error and waits for its next period', async (t) => {
  let calls = 0;
  const job: TimedJob = {
    name: 'mail.always-refused',
    everyMs: HOUR,
    async run() {
      calls += 1;
      throw new Error('the mail server said no');
    },
  };
  const work = new TimedWork({ db: app.db, logger, jobs: [job] });
  t.deepEqual(await work.runDue(at(30)), ['mail.always-refused']);
  t.deepEqual(await work.runDue(at(30.5)), []);
  t.is(calls, 1);
  t.like(await app.db('timed_runs').where({ name: 'mail.always-refused' }).first(), { last_error: 'the mail server said no' });
});

if (onPostgres) {
  test('PostgreSQL: while one process runs a job, another skips it even once the next period is due', async (t) => {
    const a = countingJob('test.long');
    const b = countingJob('test.long');
    a.holdNextRun();
    const one = new TimedWork({ db: app.db, logger, jobs: [a.job] });
    const two = new TimedWork({ db: otherProcess(t), logger, jobs: [b.job] });
    const running = one.runDue(at(40));
    while (a.runs.length === 0) await new Promise((resolve) => setImmediate(resolve));
    t.deepEqual(await two.runDue(at(42)), [], 'locked while it runs');
    a.release();
    t.deepEqual(await running, ['test.long']);
    t.deepEqual(await two.runDue(at(42)), ['test.long'], 'due again after it finished');
  });

  test('PostgreSQL: a process that dies mid-run leaves the job due, for another to run at once', async (t) => {
    const name = `ct_dying_${process.pid}`;
    const dying = otherProcess(t, name);
    const a = countingJob('test.dies');
    a.holdNextRun();
    const running = new TimedWork({ db: dying, logger, jobs: [a.job] }).runDue(at(50));
    while (a.runs.length === 0) await new Promise((resolve) => setImmediate(resolve));
    // The process's connections are cut while the job runs: its claim is rolled back with them.
    await app.db.raw('select pg_terminate_backend(pid) from pg_stat_activity where application_name = ?', [name]);
    const alive = async () => (await app.db.raw('select 1 from pg_stat_activity where application_name = ?', [name])).rows.length;
    while ((await alive()) > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    a.release();
    t.deepEqual(await running, [], 'the dying process did not finish its claim');
    const b = countingJob('test.dies');
    t.deepEqual(await new TimedWork({ db: app.db, logger, jobs: [b.job] }).runDue(at(50.1)), ['test.dies']);
  });
}

test('the sign-in clean-up deletes expired sessions and API tokens, and only those', async (t) => {
  const user = await createUser(app.db);
  const rows = (expires: Date, n: number) => ({
    expired: expires,
    sessions: {
      id_hash: `h${n}`,
      data: '{}',
      user_id: user.id,
      expires_at: expires.toISOString(),
      created_at: at(0).toISOString(),
      updated_at: at(0).toISOString(),
    },
    tokens: { user_id: user.id, token_hash: `t${n}`, expires_at: expires.toISOString(), created_at: at(0).toISOString() },
  });
  const old = rows(at(59), 1);
  const live = rows(at(61), 2);
  await app.db('sessions').insert([old.sessions, live.sessions]);
  await app.db('api_tokens').insert([old.tokens, live.tokens]);
  const job = timedJobs(app.db, app.config).find((j) => j.name === 'auth.expired-sign-ins') as TimedJob;
  await job.run(at(60));
  t.deepEqual(
    (await app.db('sessions').whereIn('id_hash', ['h1', 'h2'])).map((r) => r.id_hash),
    ['h2'],
  );
  t.deepEqual(
    (await app.db('api_tokens').whereIn('token_hash', ['t1', 't2'])).map((r) => r.token_hash),
    ['t2'],
  );
});

test('the rate-limit clean-up deletes counters whose window ended over an hour ago', async (t) => {
  const ms = (hours: number) => at(hours).getTime();
  await app.db('rate_limits').insert([
    { key: 'test:old', points: 3, expire: ms(70) - 3_600_001 },
    { key: 'test:recent', points: 3, expire: ms(70) - 60_000 },
    { key: 'test:live', points: 1, expire: ms(70) + 60_000 },
  ]);
  const job = timedJobs(app.db, app.config).find((j) => j.name === 'http.expired-rate-limits') as TimedJob;
  await job.run(at(70));
  const left = (await app.db('rate_limits').where('key', 'like', 'test:%').orderBy('key')).map((r) => r.key);
  t.deepEqual(left, ['test:live', 'test:recent']);
});
