import type { Logger } from 'pino';
import type { ClaimWindow } from '../db/claim.ts';

/**
 * What the outbox worker and the webhook worker share: the retry schedule, the lease after which a
 * claim belongs to a dead worker, running a claimed batch with bounded concurrency, and the poll loop
 * that a commit can wake early. Each worker keeps only what it does with one row.
 */

/** A claim held longer than this belongs to a worker that died: the row is claimed again. */
export const LEASE_MS = 5 * 60_000;
/** Retry n waits about base * 2^(n-1), halved at random (jitter), at most the cap. */
export const RETRY_BASE_MS = 30_000;
export const RETRY_CAP_MS = 60 * 60_000;

/** Equal jitter: half the exponential delay fixed, half random, so a burst of failures spreads out. */
export function retryDelayMs(attempt: number, random: () => number, baseMs = RETRY_BASE_MS, capMs = RETRY_CAP_MS): number {
  const full = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

export interface ClaimedBatch<Row extends { id: number }, Result extends string> {
  now: Date;
  leaseMs: number;
  limit: number;
  concurrency: number;
  stopping: () => boolean;
  /** Tallies per result, plus how many rows were claimed and how many handed back untried. */
  report: Record<Result | 'claimed' | 'released', number>;
  claim: (window: ClaimWindow) => Promise<Row[]>;
  /** One row: sends it and records its outcome under the claim (`lockedAt`); returns what happened. */
  handle: (row: Row, claim: { id: number; lockedAt: string }) => Promise<Result>;
  /** Hands the untried rows back (their claim made at `lockedAt`); returns how many it released. */
  release: (lockedAt: string, ids: number[]) => Promise<number>;
}

/**
 * One batch: claims due rows in one statement, hands them to `handle` at most `concurrency` at once,
 * and once `stopping()` is true lets the sends in flight finish and releases the rows not yet started.
 */
export async function runClaimedBatch<Row extends { id: number }, Result extends string>(
  batch: ClaimedBatch<Row, Result>,
): Promise<void> {
  const lockedAt = batch.now.toISOString();
  const rows = await batch.claim({
    now: lockedAt,
    staleBefore: new Date(batch.now.getTime() - batch.leaseMs).toISOString(),
    limit: batch.limit,
  });
  batch.report.claimed = rows.length;
  const queue = [...rows];
  const untried: number[] = [];
  const lane = async () => {
    for (let row = queue.shift(); row !== undefined; row = queue.shift()) {
      if (batch.stopping()) untried.push(row.id);
      else batch.report[await batch.handle(row, { id: row.id, lockedAt })] += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(batch.concurrency, rows.length) }, lane));
  if (untried.length) batch.report.released = await batch.release(lockedAt, untried);
}

export interface PollLoopOptions {
  /** Logged when a batch throws ("<name> batch failed") and when the loop ends. */
  name: string;
  log: Logger;
  pollMs: number;
  batchSize: number;
  /** Claims and handles one batch; returns how many rows it claimed. */
  batch: () => Promise<number>;
  /** Subscribes `wake` to the commits that make work due; returns the unsubscribe. */
  subscribe?: (wake: () => void) => () => void;
}

/**
 * Runs `batch` until stopped: a full batch is followed at once by the next, otherwise the loop waits
 * pollMs, and a wake cuts the wait short (a wake during a batch runs the next one at once).
 */
export class PollLoop {
  private stopping = false;
  private done: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private wokenWhileBusy = false;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: PollLoopOptions) {}

  get isStopping(): boolean {
    return this.stopping;
  }

  get running(): boolean {
    return this.done !== undefined;
  }

  start(): void {
    if (this.done) return;
    this.stopping = false;
    this.unsubscribe = this.options.subscribe?.(() => this.wake());
    this.done = this.loop();
  }

  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.wokenWhileBusy = true;
  }

  /** No new batches; resolves when the batch in flight has finished. Also stops a batch run by hand. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    this.wakeUp?.();
    await this.done;
    this.done = undefined;
  }

  private async loop(): Promise<void> {
    const { batchSize, pollMs, log, name } = this.options;
    while (!this.stopping) {
      this.wokenWhileBusy = false;
      let full = false;
      try {
        full = (await this.options.batch()) >= batchSize;
      } catch (err) {
        log.error({ err }, `${name} batch failed; trying again at the next poll`);
      }
      if (this.stopping) break;
      if (full || this.wokenWhileBusy) continue;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.wakeUp = undefined;
          resolve();
        };
        const timer = setTimeout(done, pollMs);
        this.wakeUp = done;
      });
    }
    log.info(`${name} worker stopped`);
  }
}
