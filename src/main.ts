import type { Server } from 'node:http';
import { seedOnStart } from '../seeds/demo.ts';
import { createApp } from './app.ts';
import { loadConfigOrExit } from './config.ts';
import { createDb, migrateLatest } from './db/index.ts';
import { probeIssuer } from './features/auth/oidc.ts';
import { applyServerTimeouts } from './http/server-timeouts.ts';
import { createLogger } from './logger.ts';
import { exitOnMissingEscalationUser } from './start-checks.ts';
import { startBackgroundWork } from './worker.ts';

/** `npm start`: read config, migrate, serve; on SIGTERM stop accepting, finish in-flight requests, close the pool. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);
  if (config.secretKeyGenerated) {
    logger.warn('SECRET_KEY is not set: using a random key for this run (sessions end at restart). Set SECRET_KEY in .env.');
  }
  // The identity provider is asked while the database migrates: an issuer that answers but is no
  // OpenID provider (or names itself differently) stops the start; one that does not answer is a warning.
  const issuerChecked = config.oidc ? probeIssuer(config.oidc) : undefined;
  const db = createDb(config.database, {
    poolMax: config.databasePoolMax,
    logger,
    preparedStatements: config.databasePreparedStatements,
  });
  // With MIGRATE_ON_START=false a migration job migrates (directly, not through a transaction pooler);
  // /api/ready answers 503 until it has.
  const applied = config.migrateOnStart ? await migrateLatest(db) : [];
  const probe = await issuerChecked;
  if (probe && !probe.ok && probe.fatal) {
    await db.destroy();
    process.stderr.write(`Configuration error: Invalid OIDC_ISSUER: ${probe.reason}\n`);
    process.exit(1);
  }
  if (probe && !probe.ok) {
    logger.warn(
      { issuer: config.oidc?.issuer, reason: probe.reason },
      'the identity provider (OIDC_ISSUER) did not answer: single sign-on shows an error until it does; password sign-in works',
    );
  }
  if (config.migrateOnStart) logger.info({ applied: applied.length, database: config.database.client }, 'migrations up to date');
  else logger.info('MIGRATE_ON_START=false: not migrating; /api/ready waits for the schema');
  // Demo data only when asked for (RUN_SEED_ON_START=true); a refusal or failure is logged, not fatal.
  if (config.runSeedOnStart) await seedOnStart(db, config, logger);
  await exitOnMissingEscalationUser(db, config);

  const app = createApp({ config, db, logger });
  const server: Server = app.listen(config.port, config.host, () => {
    logger.info({ port: config.port, url: config.appUrl }, 'listening');
  });
  applyServerTimeouts(server);

  // WORKER_IN_PROCESS=false when a separate `npm run worker` delivers notifications and runs timed work.
  const worker = config.workerInProcess ? startBackgroundWork(db, logger, config) : undefined;

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // The worker finishes its in-flight sends while the server drains; the pool closes after both.
    const workerStopped = worker?.stop().catch((err) => logger.error({ err }, 'background work stop failed'));
    server.close(async () => {
      await workerStopped;
      await db.destroy();
      logger.info('stopped');
      process.exit(0);
    });
    // Kept-alive connections outlive server.close(): each is closed as soon as its last response is out,
    // so an idle browser connection cannot hold the exit until the timeout.
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
