import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import type { WebhookSettings } from '../../config.ts';
import type { Db } from '../../db/index.ts';
import { LEASE_MS, PollLoop, retryDelayMs, runClaimedBatch } from '../../lib/claim-loop.ts';
import { notifyDisabled } from './messages.ts';
import {
  type Claim,
  type ClaimedDelivery,
  claimDue,
  clearFailures,
  countFailure,
  disable,
  failWaiting,
  finishClaim,
  insertAttempt,
  type NewAttempt,
  releaseClaims,
} from './queries.ts';
import { decryptSecret, UnreadableSecret } from './secrets.ts';
import { onDeliveriesDue } from './signal.ts';
import { type PostResult, type TargetOptions, WebhookTarget } from './target.ts';

export interface WebhookWorkerOptions {
  db: Db;
  logger: Logger;
  settings: WebhookSettings;
  /** SECRET_KEY, which the subscriptions' secrets are encrypted under. */
  secretKey: string;
  /** APP_URL, for the link in the email that says a subscription was disabled. */
  appUrl: string;
  /** The outbox's knobs, shared: claims per batch, sends at once, poll interval. */
  batchSize: number;
  concurrency: number;
  pollMs: number;
  /** Tests: a clock and random source, and the target's resolver or address policy. */
  clock?: () => Date;
  random?: () => number;
  leaseMs?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
  target?: Pick<TargetOptions, 'resolve' | 'refusal'>;
  userAgent?: string;
}

export interface WebhookBatchReport {
  claimed: number;
  delivered: number;
  retried: number;
  gaveUp: number;
  /** Not sent: the subscription was disabled after the delivery was queued. */
  dropped: number;
  /** Deliveries another worker took over (lease expired mid-send): their outcome is not written here. */
  lost: number;
  released: number;
}

type Verdict = {
  outcome: NewAttempt['outcome'];
  statusCode: number | null;
  error: string | null;
  excerpt: string | null;
  ms: number;
};

const isSuccess = (status: number) => status >= 200 && status < 300;

/** What an answer (or its absence) means for the delivery: delivered, to be retried, or given up. */
function judge(result: PostResult, lastTry: boolean): Verdict {
  if (result.kind === 'refused')
    return { outcome: 'refused', statusCode: null, error: `Not sent: ${result.reason}`, excerpt: null, ms: result.ms };
  if (result.kind === 'error')
    return { outcome: lastTry ? 'gave_up' : 'failed', statusCode: null, error: result.message, excerpt: null, ms: result.ms };
  const { status, excerpt, ms } = result;
  if (isSuccess(status)) return { outcome: 'delivered', statusCode: status, error: null, excerpt, ms };
  let error = `The receiver answered ${status}.`;
  if (status >= 300 && status < 400)
    error = `The receiver answered ${status}, a redirect${result.location ? ` to ${result.location.slice(0, 200)}` : ''}: redirects are not followed.`;
  // 410 Gone: the receiver says this address is no more: no retries.
  if (status === 410) return { outcome: 'gave_up', statusCode: status, error: `${error} (Gone: not retried.)`, excerpt, ms };
  return { outcome: lastTry ? 'gave_up' : 'failed', statusCode: status, error, excerpt, ms };
}

/**
 * Delivers webhooks (DESIGN.md §16) the way the notifications worker delivers the outbox: each batch
 * claims due deliveries in one statement (lease, FOR UPDATE SKIP LOCKED), sends them with bounded
 * concurrency, and records each outcome under its claim (status = 'sending' AND locked_at = ours), so
 * only the claim holder writes it. Each attempt is a row of the delivery log. A delivery is retried
 * with the outbox's backoff until WEBHOOK_MAX_ATTEMPTS; a 410 or a refused target is given up at once.
 * WEBHOOK_DISABLE_AFTER deliveries given up in a row disable the subscription, fail what it still
 * has waiting and email every admin, in one transaction.
 *
 * At least once, not in order: a worker that dies after sending and before recording sends again
 * after the lease (same webhook-id), and retries and concurrent sends reorder events.
 */
export class WebhookWorker {
  private readonly log: Logger;
  private readonly clock: () => Date;
  private readonly random: () => number;
  private readonly target: WebhookTarget;
  private readonly loop: PollLoop;

  constructor(private readonly options: WebhookWorkerOptions) {
    this.log = options.logger.child({ component: 'webhooks' });
    this.clock = options.clock ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.target = new WebhookTarget({
      allowPrivate: options.settings.allowPrivate,
      timeoutMs: options.settings.timeoutMs,
      userAgent: options.userAgent ?? 'Cable-Ticketing-Webhooks',
      ...options.target,
    });
    this.loop = new PollLoop({
      name: 'webhook',
      log: this.log,
      pollMs: options.pollMs,
      batchSize: options.batchSize,
      batch: async () => (await this.runOnce()).claimed,
      subscribe: onDeliveriesDue,
    });
  }

  /** Claims and sends one batch; resolves when every claimed delivery has its outcome written. */
  async runOnce(): Promise<WebhookBatchReport> {
    const { db } = this.options;
    const report: WebhookBatchReport = { claimed: 0, delivered: 0, retried: 0, gaveUp: 0, dropped: 0, lost: 0, released: 0 };
    if (this.loop.isStopping) return report;
    await runClaimedBatch({
      now: this.clock(),
      leaseMs: this.options.leaseMs ?? LEASE_MS,
      limit: this.options.batchSize,
      concurrency: this.options.concurrency,
      stopping: () => this.loop.isStopping,
      report,
      claim: (window) => claimDue(db, window),
      handle: (row, claim) => this.handle(row, claim),
      release: (lockedAt, ids) => releaseClaims(db, lockedAt, ids, this.clock().toISOString()),
    });
    if (report.claimed) this.log.info(report, 'webhook batch');
    return report;
  }

  private async handle(row: ClaimedDelivery, claim: Claim): Promise<keyof WebhookBatchReport> {
    const { db, settings } = this.options;
    if (!row.enabled) {
      const owned = await finishClaim(db, claim, {
        status: 'failed',
        last_error: 'The subscription is disabled.',
        updated_at: this.clock().toISOString(),
      });
      return owned ? 'dropped' : 'lost';
    }
    const started = this.clock();
    let verdict: Verdict;
    if (row.attempts > settings.maxAttempts) {
      // Claimed again after a worker died during the last allowed attempt.
      verdict = {
        outcome: 'gave_up',
        statusCode: null,
        error: `Gave up after ${settings.maxAttempts} attempts (the last one was interrupted).`,
        excerpt: null,
        ms: 0,
      };
    } else {
      verdict = judge(await this.send(row, started), row.attempts >= settings.maxAttempts);
    }
    return this.record(row, claim, started, verdict);
  }

  /** Signs the stored body (Standard Webhooks: HMAC-SHA256 over id.timestamp.body) and POSTs it once. */
  private async send(row: ClaimedDelivery, at: Date): Promise<PostResult> {
    let secret: string;
    try {
      secret = decryptSecret(row.secret_ciphertext, this.options.secretKey);
    } catch (err) {
      if (err instanceof UnreadableSecret) return { kind: 'refused', reason: err.message, ms: 0 };
      throw err;
    }
    const signature = new Webhook(secret).sign(row.message_id, at, row.payload);
    const headers = {
      'webhook-id': row.message_id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    };
    return this.target.post(row.url, headers, row.payload);
  }

  /** The attempt, the delivery's new state and the subscription's health, in one transaction. */
  private async record(row: ClaimedDelivery, claim: Claim, started: Date, verdict: Verdict): Promise<keyof WebhookBatchReport> {
    const { db, settings } = this.options;
    const now = this.clock().toISOString();
    const gaveUp = verdict.outcome === 'gave_up' || verdict.outcome === 'refused';
    const columns: Record<string, unknown> = { last_status_code: verdict.statusCode, last_error: verdict.error, updated_at: now };
    if (verdict.outcome === 'delivered') Object.assign(columns, { status: 'delivered', delivered_at: now });
    else if (gaveUp) columns.status = 'failed';
    else {
      const delay = retryDelayMs(row.attempts, this.random, this.options.retryBaseMs, this.options.retryCapMs);
      Object.assign(columns, { status: 'queued', next_attempt_at: new Date(this.clock().getTime() + delay).toISOString() });
    }
    let disabledNow: number | undefined;
    const owned = await db.transaction(async (trx) => {
      await insertAttempt(trx, {
        delivery_id: row.id,
        attempt: row.attempts,
        outcome: verdict.outcome,
        status_code: verdict.statusCode,
        duration_ms: verdict.ms,
        error: verdict.error,
        response_excerpt: verdict.excerpt,
        started_at: started.toISOString(),
      });
      if (!(await finishClaim(trx, claim, columns))) return false;
      if (verdict.outcome === 'delivered') await clearFailures(trx, row.subscription_id, now);
      if (gaveUp) {
        const failures = await countFailure(trx, row.subscription_id, now);
        if (failures >= settings.disableAfter) {
          const reason = verdict.error ?? 'Deliveries kept failing.';
          if (await disable(trx, row.subscription_id, `${failures} deliveries in a row failed. Last: ${reason}`, now)) {
            await failWaiting(trx, row.subscription_id, 'The subscription was disabled after repeated failures.', now);
            await notifyDisabled(trx, { id: row.subscription_id, url: row.url }, failures, reason, this.options.appUrl);
            disabledNow = failures;
          }
        }
      }
      return true;
    });
    const fields = {
      delivery: row.id,
      subscription: row.subscription_id,
      attempt: row.attempts,
      status: verdict.statusCode,
      ms: verdict.ms,
    };
    if (!owned) {
      this.log.warn(fields, 'webhook claim lost: another worker took the delivery over');
      return 'lost';
    }
    if (disabledNow) this.log.warn({ ...fields, failures: disabledNow }, 'webhook subscription disabled after repeated failures');
    if (verdict.outcome === 'delivered') {
      this.log.debug(fields, 'webhook delivered');
      return 'delivered';
    }
    if (gaveUp) {
      this.log.warn({ ...fields, error: verdict.error }, 'webhook delivery given up');
      return 'gaveUp';
    }
    this.log.info({ ...fields, error: verdict.error }, 'webhook delivery will be retried');
    return 'retried';
  }

  /** Polls every pollMs; a full batch is followed at once by the next; a commit with deliveries wakes it. */
  start(): void {
    this.loop.start();
  }

  wake(): void {
    this.loop.wake();
  }

  /** Graceful stop: no new claims; sends in flight finish and are recorded; untried claims are released. */
  async stop(): Promise<void> {
    await this.loop.stop();
    this.target.close();
  }
}

/** The worker as `npm start` (WORKER_IN_PROCESS) and `npm run worker` run it. */
export function startWebhookWorker(options: WebhookWorkerOptions): WebhookWorker {
  const worker = new WebhookWorker(options);
  worker.start();
  return worker;
}
