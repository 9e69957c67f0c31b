import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import knexFactory from 'knex';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { createApp } from '../../src/app.ts';
import { type Config, loadConfig, parseDatabaseUrl } from '../../src/config.ts';
import { createDb, type Db, type DbOptions, isPostgres, migrateLatest } from '../../src/db/index.ts';
import { applyServerTimeouts } from '../../src/http/server-timeouts.ts';
import { createLogger } from '../../src/logger.ts';
import { startBackgroundWork } from '../../src/worker.ts';
import { contractEnabled, contractFor } from './contract.ts';

export const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

export interface TestDb {
  db: Db;
  databaseUrl: string;
  schema?: string;
  drop(): Promise<void>;
}

/** A fresh, empty database: a temp SQLite file, or a new schema in TEST_DATABASE_URL. */
export async function freshDatabase(logger?: Logger, options: Pick<DbOptions, 'preparedStatements'> = {}): Promise<TestDb> {
  const pgUrl = process.env.TEST_DATABASE_URL;
  if (pgUrl) {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const admin = knexFactory({ client: 'pg', connection: pgUrl, pool: { min: 0, max: 1 } });
    await admin.raw(`CREATE SCHEMA "${schema}"`);
    const db = createDb({ client: 'pg', url: pgUrl }, { schema, poolMax: 10, logger, ...options });
    return {
      db,
      databaseUrl: pgUrl,
      schema,
      async drop() {
        await db.destroy();
        await admin.raw(`DROP SCHEMA "${schema}" CASCADE`);
        await admin.destroy();
      },
    };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-test-'));
  const filename = path.join(dir, 'test.sqlite');
  const db = createDb({ client: 'sqlite', filename }, { logger });
  return {
    db,
    databaseUrl: `sqlite:${filename}`,
    async drop() {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestApp {
  url: string;
  /** The Koa app itself (its middleware list holds the routers: test/support/routes.ts reads them). */
  app: Koa;
  db: Db;
  config: Config;
  /** Every log line the app wrote, as text. */
  logs: string[];
  /** The app's logger (writes into `logs`), for parts a test builds itself, such as a notification worker. */
  logger: Logger;
  close(): Promise<void>;
}

/** An existing database, migrated by startApp and left in place at close (the caller owns it). */
function givenDatabase(databaseUrl: string, logger: Logger): TestDb {
  const db = createDb(parseDatabaseUrl(databaseUrl), { poolMax: 10, logger });
  return { db, databaseUrl, drop: () => db.destroy() };
}

export interface StartOptions {
  /** Run on this database instead of a fresh one (test/outage.test.ts brings its own PostgreSQL server). */
  databaseUrl?: string;
  /** APP_URL is the address the app listens on (single sign-on's redirect URI must be reachable). */
  appUrlFromPort?: boolean;
  /** The app's clock for the checks that take one (an ID token's expiry). */
  clock?: () => Date;
  /** Serve static files from here instead of public/ (a second build, for the service worker's update). */
  publicDir?: string;
  /** Listen on this port (a restarted app at the same address). */
  port?: number;
}

/** The app on a fresh migrated database, listening on 127.0.0.1 on a free port. */
export async function startApp(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestApp> {
  const settings = {
    NODE_ENV: 'test',
    SECRET_KEY: 'test-secret-key-0123456789abcdef',
    LOG_LEVEL: 'info',
    RATE_LIMIT_AUTH_PER_MINUTE: '10000',
    RATE_LIMIT_LINK_PER_MINUTE: '10000',
    // Tests deliver notifications themselves (worker.runOnce()); a test may turn the in-process worker on.
    WORKER_IN_PROCESS: 'false',
    ...env,
  };
  // The app's log, made first so the database client writes its own warnings there too.
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const parsed = loadConfig(settings);
  const logger = createLogger(parsed.logLevel, sink);
  const database = options.databaseUrl
    ? givenDatabase(options.databaseUrl, logger)
    : await freshDatabase(logger, { preparedStatements: parsed.databasePreparedStatements });
  await migrateLatest(database.db);
  // Listening first, so the app may be told its own address.
  // The production server's timeouts (main.ts): a test client's pooled connection is never closed under it.
  const server = applyServerTimeouts(createServer());
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const ownUrl = options.appUrlFromPort ? { APP_URL: `http://127.0.0.1:${port}` } : {};
  const config = loadConfig({ DATABASE_URL: database.databaseUrl, ...settings, ...ownUrl });
  const app = createApp({ config, db: database.db, logger, clock: options.clock, publicDir: options.publicDir });
  server.on('request', app.callback());
  // As main.ts does: the worker runs beside the app, never inside createApp.
  const worker = config.workerInProcess ? startBackgroundWork(database.db, logger, config) : undefined;
  // The API contract's document, asked for now (not awaited: the test goes on at once, as before) so
  // the first checked call seldom waits for it (client.ts).
  if (contractEnabled) contractFor(`http://127.0.0.1:${port}`).catch(() => {});
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    db: database.db,
    config: { ...config, appUrl: `http://127.0.0.1:${port}` },
    logs,
    logger,
    async close() {
      await worker?.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.drop();
    },
  };
}

/**
 * A second web process on the same database as `app`, as a replica behind a load balancer would be:
 * its own app (its own in-memory state) and, on PostgreSQL, its own connection pool on the same
 * schema. On SQLite it shares the handle (one process owns the file). Closed with `app`'s test.
 */
export async function startReplica(app: TestApp): Promise<{ url: string; close(): Promise<void> }> {
  const schema = app.db.client.config.searchPath?.[0] as string | undefined;
  const db =
    isPostgres(app.db) && process.env.TEST_DATABASE_URL
      ? createDb({ client: 'pg', url: process.env.TEST_DATABASE_URL }, { schema, poolMax: 5, logger: app.logger })
      : app.db;
  const replica = createApp({ config: app.config, db, logger: app.logger });
  const server = applyServerTimeouts(replica.listen(0, '127.0.0.1'));
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (db !== app.db) await db.destroy();
    },
  };
}
