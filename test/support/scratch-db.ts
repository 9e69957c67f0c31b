import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';

/**
 * A whole database of the caller's own, for a server process started with DATABASE_URL (which has
 * no schema option): a SQLite file in a temporary folder, or, when `postgresUrl` is given (the test
 * database), a new PostgreSQL database on the same server, dropped afterwards.
 */
export async function scratchDatabase(postgresUrl?: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (!postgresUrl) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-scratch-'));
    return { url: `sqlite:${path.join(dir, 'app.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const base = new URL(postgresUrl);
  const name = `ct_scratch_${randomBytes(4).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: base.href, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE "${name}"`);
  const url = new URL(base.href);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      await admin.raw(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.destroy();
    },
  };
}
