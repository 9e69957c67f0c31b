import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { type Db, isPostgres, type Trx } from '../db/index.ts';

/**
 * Timed work: jobs that run every so often (clean-ups, reminders, escalations), each at most once per
 * period across every process that runs a TimedWork, its schedule kept in the database (`timed_runs`)
 * so that a restart neither repeats nor skips it. Each job is a feature's function of `now`, safe to
 * run twice; time is always passed in, so tests drive it with their own clock.
 */
export interface TimedJob {
  /** Unique, stable: the schedule is kept under this name. */
  name: string;
  everyMs: number;
  run(now: Date): Promise<unknown>;
}

export interface TimedWorkOptions {
  db: Db;
  logger: Logger;
  jobs: TimedJob[];
  clock?: () => Date;
  /** How often the loop looks for due jobs. */
  pollMs?: number;
}

/** Two int4 keys of an advisory lock for a job: the app's namespace and the name's hash. */
const LOCK_NAMESPACE = 0x7143_7431;
const lockKey = (name: string) => createHash('sha256').update(name).digest().readInt32BE(0);

/**
 * Claims the job's current period: a conditional update that one process wins per period. The row is
 * made on first sight, due at once.
 */
async function claim(q: Db | Trx, job: TimedJob, now: Date): Promise<boolean> {
  await q('timed_runs')
    .insert({ name: job.name, next_run_at: new Date(0).toISOString(), last_run_at: null })
    .onConflict('name')
    .ignore();
  const changed = await q('timed_runs')
    .where('name', job.name)
    .andWhere('next_run_at', '<=', now.toISOString())
    .update({
      last_run_at: now.toISOString(),
      next_run_at: new Date(now.getTime() + job.everyMs).toISOString(),
      runs: q.raw('runs + 1'),
    });
  return changed === 1;
}

export class TimedWork {
  private readonly log: Logger;
  private readonly clock: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly options: TimedWorkOptions) {
    this.log = options.logger.child({ component: 'timed-work' });
    this.clock = options.clock ?? (() => new Date());
    const names = new Set(options.jobs.map((j) => j.name));
    if (names.size !== options.jobs.length) throw new Error('timed jobs need unique names');
  }

  /**
   * Runs every job that is due at `now` and returns the names of those this process ran. On
   * PostgreSQL each claim and its run share a transaction holding the job's advisory lock: another
   * process skips the job while it runs, and a process that dies mid-run rolls its claim back, so the
   * job is due again at once. A job that throws keeps its claim (it waits for its next period) and
   * leaves its error in `timed_runs.last_error`.
   */
  async runDue(now: Date = this.clock()): Promise<string[]> {
    const { db } = this.options;
    const ran: string[] = [];
    for (const job of this.options.jobs) {
      try {
        const did = isPostgres(db)
          ? await db.transaction(async (trx) => {
              const { rows } = await trx.raw<{ rows: { locked: boolean }[] }>(
                'select pg_try_advisory_xact_lock(?, ?) as locked',
                [LOCK_NAMESPACE, lockKey(job.name)],
              );
              if (!rows[0]?.locked || !(await claim(trx, job, now))) return false;
              await this.runJob(job, now, trx);
              return true;
            })
          : await this.claimAndRun(job, now);
        if (did) ran.push(job.name);
      } catch (err) {
        this.log.error({ err, job: job.name }, 'timed job could not be claimed');
      }
    }
    return ran;
  }

  /** SQLite: one process, one connection; the claim alone keeps the schedule. */
  private async claimAndRun(job: TimedJob, now: Date): Promise<boolean> {
    if (!(await claim(this.options.db, job, now))) return false;
    await this.runJob(job, now, this.options.db);
    return true;
  }

  /** Runs the job; its outcome is written with `q`, the claim's own transaction on PostgreSQL (it holds the row). */
  private async runJob(job: TimedJob, now: Date, q: Db | Trx): Promise<void> {
    let error: string | null = null;
    try {
      await job.run(now);
      this.log.debug({ job: job.name }, 'timed job ran');
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      this.log.error({ err, job: job.name }, 'timed job failed');
    }
    await q('timed_runs').where('name', job.name).update({ last_error: error });
  }

  /** Looks for due jobs every pollMs (default a minute) until stop(). */
  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.running = this.runDue().finally(() => {
        this.running = undefined;
      });
    };
    tick();
    this.timer = setInterval(tick, this.options.pollMs ?? 60_000);
    this.timer.unref();
  }

  /** No new runs; resolves when the run in progress (if any) has finished. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
