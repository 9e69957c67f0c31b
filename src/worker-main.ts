import { loadConfigOrExit } from './config.ts';
import { createDb } from './db/index.ts';
import { createLogger } from './logger.ts';
import { exitOnMissingEscalationUser } from './start-checks.ts';
import { startBackgroundWork } from './worker.ts';

/**
 * `npm run worker`: notification delivery and timed work alone, for deployments that run the web app
 * with WORKER_IN_PROCESS=false. It does not migrate (the web app or the migration job does); on
 * SIGTERM it stops claiming, finishes the sends and the timed job in flight, records them, and exits.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel).child({ process: 'worker' });
  const db = createDb(config.database, {
    // The sends in flight, a timed job's transaction and the connection its work uses.
    poolMax: Math.min(config.databasePoolMax, config.notifications.concurrency + 3),
    logger,
    preparedStatements: config.databasePreparedStatements,
  });
  if (!(await db.schema.hasTable('timed_runs'))) {
    logger.error('the database is not migrated: run `npm run migrate` (or start the web app) first');
    await db.destroy();
    process.exit(1);
  }
  await exitOnMissingEscalationUser(db, config);
  const worker = startBackgroundWork(db, logger, config);

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
