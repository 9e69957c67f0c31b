import { loadConfigOrExit } from './config.ts';
import { createDb } from './db/index.ts';
import { startNotificationWorker } from './features/notifications/worker.ts';
import { createLogger } from './logger.ts';

/**
 * `npm run worker`: notification delivery alone, for deployments that run the web app with
 * WORKER_IN_PROCESS=false. It does not migrate (the web app or the migration job does); on SIGTERM it
 * stops claiming, finishes the sends in flight, records them, and exits.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel).child({ process: 'worker' });
  const db = createDb(config.database, {
    poolMax: Math.min(config.databasePoolMax, config.notifications.concurrency + 2),
    logger,
  });
  if (!(await db.schema.hasTable('notifications'))) {
    logger.error('the notifications table does not exist: run `npm run migrate` (or start the web app) first');
    await db.destroy();
    process.exit(1);
  }
  const worker = startNotificationWorker(db, logger, config.notifications);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, 30_000).unref();
    await worker.stop();
    await db.destroy();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`Worker start-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
