import type { Server } from 'node:http';
import { seedOnStart } from '../seeds/demo.ts';
import { createApp } from './app.ts';
import { loadConfigOrExit } from './config.ts';
import { deleteExpiredIdempotencyKeys } from './db/idempotency-keys.ts';
import { createDb, migrateLatest } from './db/index.ts';
import { deleteExpiredSessions, deleteExpiredTokens } from './features/auth/queries.ts';
import { startNotificationWorker } from './features/notifications/worker.ts';
import { createLogger } from './logger.ts';

/** `npm start`: read config, migrate, serve; on SIGTERM stop accepting, finish in-flight requests, close the pool. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);
  if (config.secretKeyGenerated) {
    logger.warn('SECRET_KEY is not set: using a random key for this run (sessions end at restart). Set SECRET_KEY in .env.');
  }
  const db = createDb(config.database, { poolMax: config.databasePoolMax, logger });
  const applied = await migrateLatest(db);
  logger.info({ applied: applied.length, database: config.database.client }, 'migrations up to date');
  // Demo data only when asked for (RUN_SEED_ON_START=true); a refusal or failure is logged, not fatal.
  if (config.runSeedOnStart) await seedOnStart(db, config, logger);

  const app = createApp({ config, db, logger });
  const server: Server = app.listen(config.port, config.host, () => {
    logger.info({ port: config.port, url: config.appUrl }, 'listening');
  });
  server.keepAliveTimeout = 65_000;

  const housekeeping = setInterval(() => {
    Promise.all([deleteExpiredSessions(db), deleteExpiredTokens(db), deleteExpiredIdempotencyKeys(db, new Date())]).catch((err) =>
      logger.warn({ err }, 'housekeeping failed'),
    );
  }, 3_600_000);
  housekeeping.unref();

  // WORKER_IN_PROCESS=false when a separate `npm run worker` delivers notifications.
  const worker = config.workerInProcess ? startNotificationWorker(db, logger, config.notifications) : undefined;

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    clearInterval(housekeeping);
    // The worker finishes its in-flight sends while the server drains; the pool closes after both.
    const workerStopped = worker?.stop().catch((err) => logger.error({ err }, 'notification worker stop failed'));
    server.close(async () => {
      await workerStopped;
      await db.destroy();
      logger.info('stopped');
      process.exit(0);
    });
    // Kept-alive connections outlive server.close(): each is closed as soon as its last response is out
    // (found by test/deploy-shutdown.test.ts: one idle browser connection held the exit for the full timeout).
    server.closeIdleConnections();
    setInterval(() => server.closeIdleConnections(), 100).unref();
    setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, 15_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`Start-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
