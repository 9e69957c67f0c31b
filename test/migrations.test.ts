import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import knexFactory from 'knex';
import { type Db, isPostgres, migrateLatest, migrationsDir, rollbackAll } from '../src/db/index.ts';
import { SEARCH_BUCKET_BITS } from '../src/features/tickets/search.ts';
import { freshDatabase } from './support/app.ts';

/** The same migrations run forwards, all the way back, and forwards again, on SQLite and PostgreSQL. */

const KNEX_TABLES = new Set(['knex_migrations', 'knex_migrations_lock']);

async function appTables(db: Db): Promise<string[]> {
  const names: string[] = isPostgres(db)
    ? (
        await db.raw<{ rows: { name: string }[] }>(
          "select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'",
        )
      ).rows.map((r) => r.name)
    : (await db.raw<{ name: string }[]>("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")).map(
        (r) => r.name,
      );
  return names.filter((n) => !KNEX_TABLES.has(n)).sort();
}

const migrationFiles = () =>
  readdirSync(migrationsDir)
    .filter((f) => /^\d{14}_[a-z0-9_]+\.ts$/.test(f))
    .sort();

test('migrate latest, roll back everything, migrate latest again', async (t) => {
  const database = await freshDatabase();
  t.teardown(() => database.drop());
  const { db } = database;
  t.deepEqual(await appTables(db), []);

  const applied = await migrateLatest(db);
  t.deepEqual(
    applied,
    migrationFiles().map((f) => f.replace(/\.ts$/, '')),
  );
  const tables = await appTables(db);
  for (const name of ['users', 'sessions', 'api_tokens']) t.true(tables.includes(name), name);
  t.deepEqual(await migrateLatest(db), [], 'a second run applies nothing');

  await rollbackAll(db);
  t.deepEqual(await appTables(db), [], 'every table is gone');
  t.is(Number((await db('knex_migrations').count({ n: '*' }))[0]?.n), 0);

  const again = await migrateLatest(db);
  t.deepEqual(again, applied);
  t.deepEqual(await appTables(db), tables);
});

test('the schema enforces case-insensitive uniqueness through the key columns', async (t) => {
  const database = await freshDatabase();
  t.teardown(() => database.drop());
  const { db } = database;
  await migrateLatest(db);
  const now = new Date().toISOString();
  const row = (username: string, email: string) => ({
    username,
    username_key: username.toLowerCase(),
    email,
    email_key: email.toLowerCase(),
    password_hash: 'scrypt$x',
    role: 'user',
    created_at: now,
    updated_at: now,
  });
  await db('users').insert(row('Alice', 'alice@example.test'));
  await t.throwsAsync(() => db('users').insert(row('ALICE', 'other@example.test')), { any: true });
  await t.throwsAsync(() => db('users').insert(row('bob', 'Alice@Example.test')), { any: true });
  t.is(Number((await db('users').count({ n: '*' }))[0]?.n), 1);
});

test('migrations are plain Knex: they import no application code', (t) => {
  const files = migrationFiles();
  t.true(files.length > 0);
  for (const file of files) {
    const source = readFileSync(path.join(migrationsDir, file), 'utf8');
    const imports = [...source.matchAll(/from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]);
    for (const spec of imports) t.false(spec?.startsWith('.') || spec?.includes('/src/'), `${file} imports ${spec}`);
  }
});

test('on PostgreSQL the search index holds trigrams and id buckets (pg_trgm installs here); SQLite has none', async (t) => {
  const database = await freshDatabase();
  t.teardown(() => database.drop());
  const { db } = database;
  await migrateLatest(db);
  if (!isPostgres(db)) {
    const names = (await db.raw<{ name: string }[]>("select name from sqlite_master where type = 'index'")).map((r) => r.name);
    t.false(
      names.some((n) => n.includes('search')),
      'SQLite searches scan the table: the migration skips it',
    );
    return;
  }
  const rows = (
    await db.raw<{ rows: { name: string; def: string }[] }>(
      "select indexname as name, indexdef as def from pg_indexes where schemaname = current_schema() and tablename = 'tickets'",
    )
  ).rows;
  const def = rows.find((r) => r.name === 'tickets_search_trgm_bucket')?.def ?? 'tickets_search_trgm_bucket is missing';
  // Its bucket column (20261127100000) is no longer looked up: searches by bucket use the search keys
  // index since 20261128100000 (tested below). It costs one key per ticket, and is left in place.
  t.regex(def, /gin \(search_text (\S+\.)?gin_trgm_ops, \(ARRAY\[\(id >> 16\)\]\)\)/);
  // A search reads the index's whole pending list: kept to 8 pages (20261126130000).
  t.regex(def, /WITH \(gin_pending_list_limit='64'\)/);
  t.false(
    rows.some((r) => r.name === 'tickets_search_text_trgm'),
    'the trigram-only index it replaces is gone (one index to keep up)',
  );
  // down gives the trigram-only index back, with its bound pending list.
  const bucketMigration = await import('../migrations/20261127100000_search_index_by_id_range.ts');
  await bucketMigration.down(db);
  const after = (
    await db.raw<{ rows: { name: string; def: string }[] }>(
      "select indexname as name, indexdef as def from pg_indexes where schemaname = current_schema() and tablename = 'tickets'",
    )
  ).rows;
  t.false(after.some((r) => r.name === 'tickets_search_trgm_bucket'));
  t.regex(
    after.find((r) => r.name === 'tickets_search_text_trgm')?.def ?? '',
    /gin \(search_text .*gin_trgm_ops\) WITH \(gin_pending_list_limit='64'\)/,
  );
});

test('on PostgreSQL the search keys index holds each ticket’s three-character keys in its id range; down removes it', async (t) => {
  const database = await freshDatabase();
  t.teardown(() => database.drop());
  const { db } = database;
  await migrateLatest(db);
  if (!isPostgres(db)) {
    t.pass('SQLite has no search keys');
    return;
  }
  const keysIndex = async () =>
    (
      await db.raw<{ rows: { def: string; valid: boolean }[] }>(
        "select pg_get_indexdef(i.indexrelid) as def, i.indisvalid as valid from pg_index i where i.indexrelid = to_regclass('tickets_search_keys')",
      )
    ).rows;
  t.regex(
    (await keysIndex())[0]?.def ?? 'missing',
    /USING gin \(ticket_search_keys\(id, search_text\)\) WITH \(gin_pending_list_limit='64'\)/,
  );
  // The bucket is the app's (SEARCH_BUCKET_BITS), or a search would look its word up in the wrong range.
  const bucket = 3;
  const { rows } = await db.raw<{ rows: { keys: string[]; none: string[]; short: string[]; word: string[] }[] }>(
    'select ticket_search_keys(?, ?) as keys, ticket_search_keys(1, null) as none, ticket_search_keys(1, ?) as short, ticket_search_keys(?, ?) as word',
    [bucket * 2 ** SEARCH_BUCKET_BITS + 5, 'käs 7b', 'ab', bucket * 2 ** SEARCH_BUCKET_BITS, 'käs'],
  );
  t.deepEqual(rows[0], {
    keys: ['3:käs', '3:äs ', '3:s 7', '3: 7b'],
    none: null as unknown as string[],
    short: [],
    word: ['3:käs'],
  });

  // As an interrupted CREATE INDEX CONCURRENTLY leaves it: the migration stops and says what to do
  // (dropping it in the migrations' transaction would keep reads waiting through the build).
  await db.raw("update pg_index set indisvalid = false where indexrelid = to_regclass('tickets_search_keys')");
  const keysMigration = await import('../migrations/20261128100000_search_keys_by_id_range.ts');
  await t.throwsAsync(() => keysMigration.up(db), { message: /invalid .*DROP INDEX CONCURRENTLY tickets_search_keys/ });
  await db.raw('drop index tickets_search_keys');
  await keysMigration.up(db);
  t.deepEqual(
    (await keysIndex()).map((r) => r.valid),
    [true],
    'built again once dropped',
  );
  await keysMigration.down(db);
  t.deepEqual(await keysIndex(), []);
  const fn = await db.raw<{ rows: unknown[] }>(
    "select 1 from pg_proc where proname = 'ticket_search_keys' and pronamespace = current_schema()::regnamespace",
  );
  t.is(fn.rows.length, 0, 'the function is gone with it');
});

test('on PostgreSQL new sessions of the app’s role run without JIT; down gives the server’s default back', async (t) => {
  const pgUrl = process.env.TEST_DATABASE_URL;
  if (!pgUrl) {
    t.pass('SQLite compiles nothing');
    return;
  }
  // A database of its own: the setting is the role's in a database, and every other test file's schema
  // shares the test database (their migrations set it while this test would reset it).
  const name = `ct_jit_${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: pgUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`create database ${name}`);
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  const db = knexFactory({ client: 'pg', connection: url.toString(), pool: { min: 0, max: 1 } });
  t.teardown(async () => {
    await db.destroy();
    await admin.raw(`drop database ${name}`);
    await admin.destroy();
  });
  /** `jit` in a session opened now (an open session keeps the setting it started with). */
  const jitOfNewSession = async () => {
    const session = knexFactory({ client: 'pg', connection: url.toString(), pool: { min: 0, max: 1 } });
    try {
      return (await session.raw<{ rows: { jit: string }[] }>('show jit')).rows[0]?.jit;
    } finally {
      await session.destroy();
    }
  };
  const serverDefault = await jitOfNewSession();
  const noJit = await import('../migrations/20261128100100_no_jit_for_the_app.ts');
  // As migrations run: in a transaction (the advisory lock is the transaction's).
  const run = (step: 'up' | 'down') => db.transaction((trx) => noJit[step](trx));
  await run('up');
  t.is(await jitOfNewSession(), 'off');
  await run('up');
  t.is(await jitOfNewSession(), 'off', 'a second run changes nothing');
  await run('down');
  t.is(await jitOfNewSession(), serverDefault);
  /** The role's settings in this database as stored (what `show` cannot tell apart). */
  const stored = async () =>
    (
      await db.raw<{ rows: { config: string[] }[] }>(
        'select s.setconfig as config from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase where d.datname = current_database() and s.setrole = (select oid from pg_roles where rolname = current_user)',
      )
    ).rows[0]?.config;
  t.is(await stored(), undefined, 'down left nothing behind');
  await db.raw(`alter role current_user in database ${name} set jit = fal`);
  await run('up');
  t.deepEqual(await stored(), ['jit=fal'], 'another spelling of off (a prefix of false) is left as it is');
  await db.raw(`alter role current_user in database ${name} set jit = on`);
  await run('down');
  t.deepEqual(await stored(), ['jit=on'], 'down removes only an off setting, not one made on');
  await run('up');
  t.deepEqual(await stored(), ['jit=off']);
  t.is(await jitOfNewSession(), 'off');
});

/**
 * The console warnings starting with `prefix` until the test ends (others pass through). The tests
 * using it run serially: console.warn is the process's.
 */
function warningsAbout(t: ExecutionContext, prefix: string): string[] {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (message: string) => {
    if (String(message).startsWith(prefix)) warnings.push(message);
    else warn(message);
  };
  t.teardown(() => {
    console.warn = warn;
  });
  return warnings;
}

// Serial: it replaces console.warn for the process while it runs, which must not swallow (or count)
// another test's warnings.
test.serial(
  "the search index's pending-list bound gives way: no index, or a lock not granted, is a warning, not a failed deploy",
  async (t) => {
    const pendingList = await import('../migrations/20261126130000_bound_search_index_pending_list.ts');
    const bucketMigration = await import('../migrations/20261127100000_search_index_by_id_range.ts');
    const database = await freshDatabase();
    t.teardown(() => database.drop());
    const { db } = database;
    await migrateLatest(db);
    // The schema as the pending-list migration found it: the trigram-only index, before 20261127100000.
    await bucketMigration.down(db);
    if (!isPostgres(db)) {
      await pendingList.up(db);
      const names = (await db.raw<{ name: string }[]>("select name from sqlite_master where type = 'index'")).map((r) => r.name);
      t.false(names.includes('tickets_search_text_trgm'), 'SQLite has no trigram index to bound');
      return;
    }
    const options = async () =>
      (
        await db.raw<{ rows: { options: string[] | null }[] }>(
          "select c.reloptions as options from pg_class c where c.oid = to_regclass('tickets_search_text_trgm')",
        )
      ).rows[0]?.options ?? null;
    const warnings = warningsAbout(t, 'tickets_search_text_trgm');

    await pendingList.down(db);
    t.is(await options(), null, 'down resets the limit');

    // Another session plans a query on tickets and stays in its transaction: it holds the index's lock.
    const other = await db.client.acquireConnection();
    try {
      await other.query('begin');
      await other.query("select id from tickets where search_text like '%cat6%' limit 1");
      await pendingList.up(db);
      t.is(await options(), null, 'not set while the lock was held');
      t.is(warnings.length, 1);
      t.regex(warnings[0] ?? '', /keeps its pending list as it was \(.*lock timeout/);
    } finally {
      await other.query('rollback');
      await db.client.releaseConnection(other);
    }
    await pendingList.up(db);
    t.deepEqual(await options(), ['gin_pending_list_limit=64'], 'set once the lock is free');

    await db.raw('drop index tickets_search_text_trgm');
    await pendingList.up(db);
    await pendingList.down(db);
    t.is(warnings.length, 1, 'without the index (pg_trgm missing) there is nothing to do and nothing to say');
  },
);

// Serial: it replaces console.warn for the process while it runs.
test.serial(
  'the bucketed search index: an invalid one is built again; a refused drop keeps the old index with a warning',
  async (t) => {
    const bucketMigration = await import('../migrations/20261127100000_search_index_by_id_range.ts');
    const database = await freshDatabase();
    t.teardown(() => database.drop());
    const { db } = database;
    await migrateLatest(db);
    if (!isPostgres(db)) {
      await bucketMigration.up(db);
      t.pass('SQLite has no search index');
      return;
    }
    const indexes = async () =>
      (
        await db.raw<{ rows: { name: string; valid: boolean }[] }>(
          "select c.relname as name, i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = to_regclass('tickets') and c.relname like 'tickets_search_t%' order by 1",
        )
      ).rows;
    const warnings = warningsAbout(t, 'tickets_search_text_trgm');

    // As an interrupted CREATE INDEX CONCURRENTLY leaves it (the test's role may mark it so).
    await bucketMigration.down(db);
    const { rows } = await db.raw<{ rows: { schema: string }[] }>(
      "select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'",
    );
    await db.raw(
      `create index tickets_search_trgm_bucket on tickets using gin (search_text "${rows[0]?.schema}".gin_trgm_ops, (array[id >> 16]))`,
    );
    await db.raw("update pg_index set indisvalid = false where indexrelid = to_regclass('tickets_search_trgm_bucket')");
    await bucketMigration.up(db);
    t.deepEqual(await indexes(), [{ name: 'tickets_search_trgm_bucket', valid: true }], 'the invalid index built again');

    // Another session reads tickets and stays in its transaction: the drop cannot have the table.
    await bucketMigration.down(db);
    const other = await db.client.acquireConnection();
    try {
      await other.query('begin');
      await other.query('select id from tickets limit 1');
      await bucketMigration.up(db);
    } finally {
      await other.query('rollback');
      await db.client.releaseConnection(other);
    }
    t.deepEqual(
      await indexes(),
      [
        { name: 'tickets_search_text_trgm', valid: true },
        { name: 'tickets_search_trgm_bucket', valid: true },
      ],
      'the new index is built; the old one stays while the lock is held',
    );
    t.is(warnings.length, 1);
    t.regex(warnings[0] ?? '', /stays beside tickets_search_trgm_bucket \(.*lock timeout.*DROP INDEX CONCURRENTLY/);

    await bucketMigration.up(db);
    t.deepEqual(await indexes(), [{ name: 'tickets_search_trgm_bucket', valid: true }], 'dropped once the table is free');
    t.is(warnings.length, 1);
  },
);
