import knexFactory from 'knex';

/** Creates the PostgreSQL test database named by `url` when it is missing (its server's `postgres` database must be reachable). */
export async function ensureTestDatabase(url: string): Promise<void> {
  const parsed = new URL(url);
  const name = decodeURIComponent(parsed.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`Unexpected test database name: ${name}`);
  const adminUrl = new URL(parsed);
  adminUrl.pathname = '/postgres';
  const admin = knexFactory({ client: 'pg', connection: adminUrl.toString(), pool: { min: 0, max: 1 } });
  try {
    const found = await admin.raw('select 1 from pg_database where datname = ?', [name]);
    if (found.rows.length === 0) {
      await admin.raw(`CREATE DATABASE "${name}"`);
      console.log(`Created PostgreSQL database ${name}.`);
    }
  } finally {
    await admin.destroy();
  }
}
