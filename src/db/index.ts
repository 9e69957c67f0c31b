import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import knexFactory, { type Knex } from 'knex';
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
}

export function createDb(database: Database, options: DbOptions = {}): Db {
  if (database.client === 'sqlite') {
    if (database.filename !== ':memory:') mkdirSync(path.dirname(database.filename), { recursive: true });
    return knexFactory({
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
  return knexFactory({
    client: 'pg',
    connection: { connectionString: database.url },
    searchPath: options.schema ? [options.schema] : undefined,
    pool: { min: 0, max: options.poolMax ?? 10 },
    acquireConnectionTimeout: 10_000,
  });
}

export const isPostgres = (db: Db): boolean => db.client.config.client === 'pg';

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

/** PostgreSQL hands back `Date`, SQLite the stored string: both leave here as ISO-8601. */
export function toIso(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}
