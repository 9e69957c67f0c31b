import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from '../config.ts';

export type Db = Knex;
export type Trx = Knex.Transaction;

const here = path.dirname(fileURLToPath(import.meta.url));
/** `migrations/` beside `src/` (works from `src/db` under tsx and from `dist/src/db` after a build). */
export const migrationsDir = path.resolve(here, '../../migrations');

export interface DbOptions {
  poolMax?: number;
  /** PostgreSQL only: run everything inside this schema (tests use one schema per file). */
  schema?: string;
  /** Where knex's own warnings go (pool and connection errors during an outage); else console.log. */
  logger?: Logger;
  /**
   * PostgreSQL: name (server-side prepare) the hot statements (default). False for a pooler that cannot
   * keep them across transactions (PgBouncer before 1.21 in transaction mode): then no statement is named.
   */
  preparedStatements?: boolean;
}

/** knex's log hooks writing to the app's logger, so its lines are JSON like every other line. */
const knexLog = (logger: Logger) => ({
  warn: (message: unknown) => logger.warn({ knex: String(message) }, 'database client warning'),
  error: (message: unknown) => logger.error({ knex: String(message) }, 'database client error'),
  deprecate: (message: unknown) => logger.warn({ knex: String(message) }, 'database client deprecation'),
  debug: (message: unknown) => logger.debug({ knex: String(message) }, 'database client debug'),
});

export function createDb(database: Database, options: DbOptions = {}): Db {
  if (database.client === 'sqlite') {
    if (database.filename !== ':memory:') mkdirSync(path.dirname(database.filename), { recursive: true });
    return knexFactory({
      ...(options.logger ? { log: knexLog(options.logger) } : {}),
      client: 'better-sqlite3',
      connection: { filename: database.filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
          // WAL lets readers run beside the writer; busy_timeout waits instead of failing on a lock.
          conn.pragma('journal_mode = WAL');
          conn.pragma('foreign_keys = ON');
          conn.pragma('busy_timeout = 5000');
          conn.pragma('synchronous = NORMAL');
          done(null, conn);
        },
      },
    });
  }
  const db = knexFactory({
    ...(options.logger ? { log: knexLog(options.logger) } : {}),
    client: 'pg',
    connection: {
      connectionString: database.url,
      // Timestamps come back in UTC ("+00"), which timestamptzToIso turns into the app's form by hand.
      options: '-c TimeZone=UTC',
      types: {
        getTypeParser: (oid: number, format?: string) =>
          oid === TIMESTAMPTZ && format !== 'binary' ? timestamptzToIso : pg.types.getTypeParser(oid, format as 'text'),
      },
    },
    searchPath: options.schema ? [options.schema] : undefined,
    pool: { min: 0, max: options.poolMax ?? 10 },
    acquireConnectionTimeout: 10_000,
  });
  if (options.preparedStatements === false) unprepared.add(db.client.config);
  return db;
}

export const isPostgres = (db: Db): boolean => db.client.config.client === 'pg';

/** The configs (one per pool; a transaction shares its pool's) of pools that must not name statements. */
const unprepared = new WeakSet<object>();

/** Whether statements may be named (prepared) on this connection pool: PostgreSQL, unless turned off. */
export const usesPreparedStatements = (q: Db | Trx): boolean =>
  q.client.config.client === 'pg' && !unprepared.has(q.client.config);

/** `text` with LIKE's wildcards (% and _) and the escape character taken literally: use with `escape '\'`. */
export const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

const TIMESTAMPTZ = 1184;
const PG_UTC = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;

/**
 * A timestamptz as the app stores and prints every timestamp: ISO-8601 in UTC with milliseconds, the
 * same string SQLite hands back. pg's default builds a Date per value (postgres-date), which the
 * presenters only turn back into this string: for a JSON list of 50 tickets that was a tenth of the
 * request's CPU. Anything but a plain UTC value (another session time zone, infinity) goes the long way.
 */
export function timestamptzToIso(text: string): string {
  const m = PG_UTC.exec(text);
  if (m) return `${m[1]}T${m[2]}.${`${m[3] ?? ''}000`.slice(0, 3)}Z`;
  const parsed = pg.types.getTypeParser(TIMESTAMPTZ, 'text')(text) as Date | number | string;
  return parsed instanceof Date && !Number.isNaN(parsed.getTime()) ? parsed.toISOString() : String(text);
}

/** SQL text -> its statement name. Bounded: past the bound a name is derived again each time. */
const statementNames = new Map<string, string>();
const STATEMENT_NAMES_KEPT = 2_000;

/** The parts of knex's client that `prepared` drives itself (knex's own Runner does the same steps). */
interface KnexClientInternals {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown>;
  query(
    connection: unknown,
    query: { sql: string; bindings: readonly unknown[]; method: string; options: object },
  ): Promise<unknown>;
  processResponse(query: unknown, runner: unknown): unknown;
}

/**
 * Runs `query` as a named (server-side prepared) statement on PostgreSQL: parsed and planned once per
 * pooled connection, then only bound and executed: planning is most of the database's work for the
 * hot reads (the session, a list page, a ticket) and for the writes of a new request. `shape`
 * names the query's form; the statement's name also carries a hash of its SQL text, so the same shape
 * with other columns or another number of rows is another statement (pg refuses a name reused for
 * another text). Not for a LIKE search, whose pattern a generic plan cannot see, except one read a
 * bucket at a time (tickets/search.ts, listShape). SQLite prepares every statement anyway, and with
 * DATABASE_PREPARED_STATEMENTS=false nothing is named: there the query runs as it is.
 *
 * A select is handed to knex's client directly (compile, acquire, `client.query`, `processResponse`,
 * release): the same steps, events ('query', 'query-error') and error messages as knex's Runner, less
 * the Runner's own machinery, a large share of a cheap request's CPU. Inside a transaction the client
 * hands back the transaction's connection.
 */
export async function prepared<T extends Knex.QueryBuilder>(query: T, shape: string): Promise<Awaited<T>> {
  if (!usesPreparedStatements(query as unknown as Db)) return await query;
  const { sql, bindings, method } = query.toSQL();
  let name = statementNames.get(sql);
  if (!name) {
    name = `ct_${shape.replace(/\W+/g, '_')}_${createHash('sha256').update(sql).digest('hex').slice(0, 12)}`;
    if (statementNames.size < STATEMENT_NAMES_KEPT) statementNames.set(sql, name);
  }
  if (method !== 'select' && method !== 'first') return await query.options({ name });
  const client = query.client as unknown as KnexClientInternals;
  const connection = await client.acquireConnection();
  try {
    const result = await client.query(connection, { sql, bindings, method, options: { name } });
    return client.processResponse(result, null) as Awaited<T>;
  } finally {
    await client.releaseConnection(connection);
  }
}

/**
 * Loads migration files with `import()` so the same list works under tsx (.ts) and compiled (.js).
 * Names are compared without the extension, so a database migrated by one runs under the other.
 */
class FolderMigrationSource implements Knex.MigrationSource<string> {
  constructor(private readonly dir: string) {}
  async getMigrations(): Promise<string[]> {
    return readdirSync(this.dir)
      .filter((f) => /^\d{14}_[a-z0-9_]+\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
      .sort();
  }
  getMigrationName(file: string): string {
    return file.replace(/\.(ts|js)$/, '');
  }
  async getMigration(file: string): Promise<Knex.Migration> {
    return import(pathToFileURL(path.join(this.dir, file)).href);
  }
}

export const migrationConfig = (): Knex.MigratorConfig => ({
  migrationSource: new FolderMigrationSource(migrationsDir),
  tableName: 'knex_migrations',
});

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migrationConfig())) as [number, string[]];
  return applied;
}

/** The newest migration this code ships (its name without the extension). */
const newestMigration = (): string | undefined => {
  const source = new FolderMigrationSource(migrationsDir);
  const files = readdirSync(migrationsDir)
    .filter((f) => /^\d{14}_[a-z0-9_]+\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .sort();
  const last = files.at(-1);
  return last === undefined ? undefined : source.getMigrationName(last);
};

/**
 * Whether the database has every migration this code needs: its newest applied migration is this
 * code's newest, or a later one (a newer version migrated it first; migrations only add). False
 * while migrations are pending or when the table is not there yet.
 */
export async function schemaIsCurrent(db: Db): Promise<boolean> {
  const needed = newestMigration();
  if (!needed) return true;
  try {
    const row = (await db('knex_migrations').max({ name: 'name' }).first()) as { name: string | null } | undefined;
    return typeof row?.name === 'string' && row.name.replace(/\.(ts|js)$/, '') >= needed;
  } catch {
    return false;
  }
}

export async function rollbackAll(db: Db): Promise<void> {
  await db.migrate.rollback(migrationConfig(), true);
}

/** `true` when a trivial query answers: the readiness probe. */
export async function databaseIsReachable(db: Db): Promise<boolean> {
  try {
    await db.raw('select 1');
    return true;
  } catch {
    return false;
  }
}

/** Unique-constraint violation on either database. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/.test(e?.message ?? '');
}

/** Timestamps are stored as ISO-8601 strings in UTC on both databases. */
export const nowIso = (): string => new Date().toISOString();

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * Both databases hand back the ISO-8601 string stored (SQLite) or made by timestamptzToIso (PostgreSQL);
 * a Date or another date string (a caller's own value) is converted. Either way it leaves as ISO-8601.
 */
export function toIso(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' && ISO_UTC.test(value)) return value;
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}
