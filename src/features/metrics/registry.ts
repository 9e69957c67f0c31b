import type { Context, Next } from 'koa';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type Db, nowIso } from '../../db/index.ts';
import { NOTIFICATION_STATUSES, type NotificationStatus } from '../notifications/outbox.ts';
import { notificationCounts, oldestDueQueuedAt } from '../notifications/service.ts';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Process metrics (CPU, memory, event-loop lag, GC, handles) belong to the process, not to one app:
 * collected once into their own registry, so tests that build many apps in one process add no
 * observers, and joined to the app's metrics at scrape time.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** The knex pool is tarn's; these are the counters it offers. */
interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
  max: number;
}

export interface AppMetrics {
  readonly contentType: string;
  /** Koa middleware: times each request, labelled by route pattern (never the raw path) and status. */
  timeRequests(ctx: Context, next: Next): Promise<void>;
  /** Reads the scrape-time gauges (outbox, pool) and renders every metric in the text format. */
  scrape(): Promise<string>;
}

/**
 * Delivered and skipped messages pile up for good (millions of rows): counting them costs PostgreSQL
 * too much for every scrape. Their counts are read again after this long; the
 * open statuses (queued, sending, failed: few rows, an index range) at every scrape.
 */
export const SETTLED_REFRESH_MS = 5 * 60_000;
const OPEN_STATUSES = ['queued', 'sending', 'failed'] as const satisfies readonly NotificationStatus[];
const SETTLED_STATUSES = NOTIFICATION_STATUSES.filter((s) => !(OPEN_STATUSES as readonly string[]).includes(s));

export interface MetricsOptions {
  /** The clock, in ms (tests move it). */
  now?: () => number;
}

export function createMetrics(db: Db, { now: clock = Date.now }: MetricsOptions = {}): AppMetrics {
  const registry = new Registry();
  const requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route pattern (e.g. /api/tickets/:id) and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const notifications = new Gauge({
    name: 'cable_notifications',
    help: `Outbox rows by status, from the notifications table: ${OPEN_STATUSES.join(', ')} at each scrape, ${SETTLED_STATUSES.join(', ')} every ${SETTLED_REFRESH_MS / 60_000} minutes.`,
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const outboxDepth = new Gauge({
    name: 'cable_outbox_depth',
    help: 'Outbox rows not yet delivered or given up on (queued + sending).',
    registers: [registry],
  });
  const outboxOldestDue = new Gauge({
    name: 'cable_outbox_oldest_due_seconds',
    help: 'How long the longest-waiting due queued row has waited (0 when none): grows when no worker runs.',
    registers: [registry],
  });
  const databaseUp = new Gauge({
    name: 'cable_database_up',
    help: '1 when the scrape-time database queries answered, else 0.',
    registers: [registry],
  });
  const pool = new Gauge({
    name: 'cable_db_pool_connections',
    help: 'Database pool connections by state: used, free, pending_acquire (waiting for one), pending_create.',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  const poolMax = new Gauge({ name: 'cable_db_pool_max', help: 'Most connections the pool may hold.', registers: [registry] });

  /** The settled statuses' counts and when they were read (none after a failed scrape). */
  let settled: { counts: Map<string, number>; at: number } | undefined;
  /** The settled count being read: scrapes at the same moment wait for it instead of counting again. */
  let settledReading: Promise<Map<string, number>> | undefined;
  const readSettledCounts = () => {
    settledReading ??= notificationCounts(db, SETTLED_STATUSES).finally(() => {
      settledReading = undefined;
    });
    return settledReading;
  };

  async function readOutbox(): Promise<void> {
    try {
      const now = nowIso();
      const readSettled = !settled || clock() - settled.at >= SETTLED_REFRESH_MS;
      const [open, oldest, settledCounts] = await Promise.all([
        notificationCounts(db, OPEN_STATUSES),
        oldestDueQueuedAt(db, now),
        readSettled ? readSettledCounts() : undefined,
      ]);
      if (settledCounts) settled = { counts: settledCounts, at: clock() };
      for (const status of OPEN_STATUSES) notifications.set({ status }, open.get(status) ?? 0);
      for (const status of SETTLED_STATUSES) notifications.set({ status }, settled?.counts.get(status) ?? 0);
      outboxDepth.set((open.get('queued') ?? 0) + (open.get('sending') ?? 0));
      outboxOldestDue.set(oldest ? Math.max(0, (Date.parse(now) - Date.parse(oldest)) / 1000) : 0);
      databaseUp.set(1);
    } catch {
      // A scrape must still answer when the database does not: the stale gauges go, `up` says why.
      settled = undefined;
      notifications.reset();
      outboxDepth.reset();
      outboxOldestDue.reset();
      databaseUp.set(0);
    }
  }

  function readPool(): void {
    const tarn = (db.client as { pool?: TarnPool }).pool;
    if (!tarn) return;
    pool.set({ state: 'used' }, tarn.numUsed());
    pool.set({ state: 'free' }, tarn.numFree());
    pool.set({ state: 'pending_acquire' }, tarn.numPendingAcquires());
    pool.set({ state: 'pending_create' }, tarn.numPendingCreates());
    poolMax.set(tarn.max);
  }

  return {
    contentType: registry.contentType,
    async timeRequests(ctx, next) {
      const stop = requestDuration.startTimer();
      try {
        await next();
      } finally {
        // errorHandler sits inside this middleware, so the status here is the one the client gets.
        const matched = ctx._matchedRoute;
        const route = matched
          ? String(matched)
          : (ctx.method === 'GET' || ctx.method === 'HEAD') && (ctx.status === 200 || ctx.status === 304)
            ? '(static)'
            : '(none)';
        stop({ method: METHODS.has(ctx.method) ? ctx.method : 'OTHER', route, status: String(ctx.status) });
      }
    },
    async scrape() {
      readPool();
      await readOutbox();
      return `${await processMetrics().metrics()}\n${await registry.metrics()}`;
    },
  };
}
