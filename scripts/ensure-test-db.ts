import knexFactory from 'knex';

/** Creates the PostgreSQL test database named by TEST_DATABASE_URL (or the default) when it is missing. */
const url = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/cable_ticketing_test');
const name = decodeURIComponent(url.pathname.slice(1));
if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`Unexpected test database name: ${name}`);
const adminUrl = new URL(url);
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
