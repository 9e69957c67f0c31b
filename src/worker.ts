import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { deleteExpiredIdempotencyKeys } from './db/idempotency-keys.ts';
import type { Db } from './db/index.ts';
import { runFollowUps } from './features/approvals/service.ts';
import { deleteExpiredSignIns } from './features/auth/service.ts';
import { startNotificationWorker } from './features/notifications/worker.ts';
import { pruneDeliveryLog } from './features/webhooks/service.ts';
import { startWebhookWorker } from './features/webhooks/worker.ts';
import { deleteExpiredRateLimits } from './http/rate-limit.ts';
import { type TimedJob, TimedWork } from './timed/runner.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Every feature's timed work (src/timed/runner.ts): each a function of `now`, safe to run twice. */
export const timedJobs = (db: Db, config: Config): TimedJob[] => [
  { name: 'auth.expired-sign-ins', everyMs: HOUR, run: (now) => deleteExpiredSignIns(db, now) },
  { name: 'http.expired-rate-limits', everyMs: HOUR, run: (now) => deleteExpiredRateLimits(db, now) },
  { name: 'http.expired-idempotency-keys', everyMs: HOUR, run: (now) => deleteExpiredIdempotencyKeys(db, now) },
  // Offers to delegates, reminders and escalation of requests waiting for approval.
  { name: 'approvals.follow-ups', everyMs: 5 * MINUTE, run: (now) => runFollowUps(db, config, now) },
  // The webhook delivery log keeps 30 days of finished deliveries.
  { name: 'webhooks.delivery-log', everyMs: 24 * HOUR, run: (now) => pruneDeliveryLog(db, now) },
];

/** The webhook worker's options from the configuration (the outbox's batch, concurrency and poll settings). */
export const webhookWorkerOptions = (db: Db, logger: Logger, config: Config) => ({
  db,
  logger,
  settings: config.webhooks,
  secretKey: config.secretKey,
  appUrl: config.appUrl,
  batchSize: config.notifications.batchSize,
  concurrency: config.notifications.concurrency,
  pollMs: config.notifications.pollMs,
});

/**
 * The background work of a process: delivering the outbox and webhooks, and the timed jobs. `npm start` runs it
 * beside the web app (WORKER_IN_PROCESS=true), `npm run worker` alone; any number may run at once.
 */
export function startBackgroundWork(db: Db, logger: Logger, config: Config) {
  const notifications = startNotificationWorker(db, logger, config.notifications);
  const webhooks = startWebhookWorker(webhookWorkerOptions(db, logger, config));
  const timed = new TimedWork({ db, logger, jobs: timedJobs(db, config) });
  timed.start();
  return {
    /** Finishes the sends and the timed job in flight, then resolves. */
    async stop(): Promise<void> {
      await Promise.all([notifications.stop(), webhooks.stop(), timed.stop()]);
    },
  };
}
