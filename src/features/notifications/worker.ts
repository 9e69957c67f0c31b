import type { Logger } from 'pino';
import type { NotificationSettings } from '../../config.ts';
import { type Db, toIso } from '../../db/index.ts';
import { scrubText } from '../../lib/addresses.ts';
import { LEASE_MS, PollLoop, retryDelayMs, runClaimedBatch } from '../../lib/claim-loop.ts';
import { type Channels, closeChannels, createChannels, deliver, describeChannels, type Outcome } from './delivery.ts';
import { type Claim, type ClaimedRow, claimDue, finishClaim, releaseClaims } from './queries.ts';
import type { OutgoingMessage } from './sender.ts';
import { onOutboxChange } from './signal.ts';

export interface WorkerOptions {
  db: Db;
  logger: Logger;
  settings: NotificationSettings;
  /** The providers; built from `settings` with the real SDKs when not given. */
  channels?: Channels;
  /** Tests pass a fake clock and a fixed random source; the worker never sleeps on them. */
  clock?: () => Date;
  random?: () => number;
  leaseMs?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
}

export interface BatchReport {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  skipped: number;
  /** Rows whose claim another worker took over (lease expired mid-send): nothing was written for them. */
  lost: number;
  /** Claimed rows handed back untried because the worker is stopping. */
  released: number;
}

type RowResult = 'sent' | 'retried' | 'failed' | 'skipped' | 'lost';

/** Stable for the row's lifetime and unique across databases that reuse ids (ids restart, created_at does not). */
export const idempotencyKey = (row: Pick<ClaimedRow, 'id' | 'created_at'>) =>
  `cable-ticketing-notification-${row.id}-${Date.parse(toIso(row.created_at) ?? '')}`;

/** What the providers are handed for a row: its stored subject and bodies, untouched (the worker never renders). */
export const outgoingMessage = (
  row: Pick<ClaimedRow, 'id' | 'channel' | 'subject' | 'body_text' | 'body_html' | 'reply_to' | 'created_at'>,
  to: string,
): OutgoingMessage => ({
  id: row.id,
  channel: row.channel,
  to,
  subject: row.subject,
  text: row.body_text,
  html: row.body_html,
  replyTo: row.reply_to,
  idempotencyKey: idempotencyKey(row),
});

/**
 * Delivers the outbox (DESIGN.md §6). Each batch: claim due rows in one statement, send them with
 * bounded concurrency through the channel's providers, and end each claim with a conditional update
 * (`status = 'sending' AND locked_at = <our claim>`), so only the claim holder writes the outcome.
 * A worker that dies mid-batch leaves `sending` rows that are claimed again once the lease runs out.
 */
export class NotificationWorker {
  readonly channels: Channels;
  private readonly log: Logger;
  private readonly clock: () => Date;
  private readonly random: () => number;
  private readonly loop: PollLoop;

  constructor(private readonly options: WorkerOptions) {
    this.channels = options.channels ?? createChannels(options.settings);
    this.log = options.logger.child({ component: 'notifications' });
    this.clock = options.clock ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.loop = new PollLoop({
      name: 'notification',
      log: this.log,
      pollMs: options.settings.pollMs,
      batchSize: options.settings.batchSize,
      batch: async () => (await this.runOnce()).claimed,
      subscribe: onOutboxChange,
    });
  }

  /** Claims and delivers one batch; resolves when every claimed row has its outcome written. */
  async runOnce(): Promise<BatchReport> {
    const { db, settings } = this.options;
    const report: BatchReport = { claimed: 0, sent: 0, retried: 0, failed: 0, skipped: 0, lost: 0, released: 0 };
    if (this.loop.isStopping) return report;
    await runClaimedBatch({
      now: this.clock(),
      leaseMs: this.options.leaseMs ?? LEASE_MS,
      limit: settings.batchSize,
      concurrency: settings.concurrency,
      stopping: () => this.loop.isStopping,
      report,
      claim: (window) => claimDue(db, window),
      handle: (row, claim) => this.handle(row, claim),
      release: (lockedAt, ids) => releaseClaims(db, lockedAt, ids, this.clock().toISOString()),
    });
    if (report.claimed) this.log.info(report, 'notification batch');
    return report;
  }

  private async handle(row: ClaimedRow, claim: Claim): Promise<RowResult> {
    const { maxAttempts } = this.options.settings;
    const outcome = await this.attempt(row, maxAttempts);
    const now = this.clock().toISOString();
    let result: RowResult;
    let columns: Record<string, unknown>;
    if (outcome.kind === 'sent') {
      result = 'sent';
      columns = {
        status: 'sent',
        provider: outcome.provider,
        provider_message_id: outcome.messageId,
        sent_at: now,
        error_message: null,
      };
    } else if (outcome.kind === 'skipped') {
      // Not an attempt: nothing was sent and nothing will be.
      result = 'skipped';
      columns = { status: 'skipped', error_message: outcome.reason, attempts: Math.max(0, row.attempts - 1) };
    } else if (outcome.permanent || row.attempts >= maxAttempts) {
      result = 'failed';
      const why = outcome.permanent ? outcome.message : `${outcome.message} (gave up after ${row.attempts} attempts)`;
      columns = { status: 'failed', provider: outcome.provider, error_message: why };
    } else {
      result = 'retried';
      const next = new Date(this.clock().getTime() + this.retryDelay(row.attempts)).toISOString();
      columns = { status: 'queued', provider: outcome.provider, error_message: outcome.message, next_attempt_at: next };
    }
    const owned = await this.finish(claim, { ...columns, updated_at: now });
    const fields = { notification: row.id, channel: row.channel, attempt: row.attempts };
    if (!owned) {
      this.log.warn(fields, 'notification claim lost: another worker took the row over; its outcome is not recorded here');
      return 'lost';
    }
    if (result === 'sent') this.log.debug({ ...fields, provider: columns.provider }, 'notification sent');
    else if (result === 'retried') this.log.info({ ...fields, error: columns.error_message }, 'notification will be retried');
    else this.log.warn({ ...fields, status: result, error: columns.error_message }, `notification ${result}`);
    return result;
  }

  private async attempt(row: ClaimedRow, maxAttempts: number): Promise<Outcome> {
    if (row.attempts > maxAttempts) {
      const message = `Gave up after ${maxAttempts} attempts (the last one was interrupted).`;
      return { kind: 'error', provider: 'worker', message, permanent: true };
    }
    if (!row.recipient_address) return { kind: 'skipped', reason: 'The recipient has no address for this channel.' };
    try {
      return await deliver(this.channels, outgoingMessage(row, row.recipient_address));
    } catch (err) {
      // deliver() catches provider errors; anything here is a bug, retried like a transient failure.
      const message = scrubText(err instanceof Error ? err.message : String(err));
      return { kind: 'error', provider: 'worker', message, permanent: false };
    }
  }

  private retryDelay(attempt: number): number {
    return retryDelayMs(attempt, this.random, this.options.retryBaseMs, this.options.retryCapMs);
  }

  /** The outcome write, tried a few times: losing it after a send would mean sending again after the lease. */
  private async finish(claim: Claim, columns: Record<string, unknown>): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await finishClaim(this.options.db, claim, columns);
      } catch (err) {
        if (attempt >= 3) throw err;
        this.log.warn({ err, notification: claim.id }, 'recording a notification outcome failed; trying again');
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }

  /** Polls every NOTIFY_POLL_MS; a full batch is followed at once by the next; a commit to the outbox wakes it. */
  start(): void {
    if (this.loop.running) return;
    this.log.info(
      {
        ...describeChannels(this.channels),
        batch: this.options.settings.batchSize,
        concurrency: this.options.settings.concurrency,
      },
      'notification worker started',
    );
    this.loop.start();
  }

  wake(): void {
    this.loop.wake();
  }

  /** Graceful stop: no new claims; sends in flight finish and are recorded; untried claims are released. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await closeChannels(this.channels);
  }
}

/** The worker as `npm start` (WORKER_IN_PROCESS) and `npm run worker` run it. */
export function startNotificationWorker(db: Db, logger: Logger, settings: NotificationSettings): NotificationWorker {
  const worker = new NotificationWorker({ db, logger, settings });
  worker.start();
  return worker;
}
