import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A private PostgreSQL server for tests that stop and start the database (test/outage.test.ts):
 * initdb into a temporary folder, pg_ctl on a free port. As root (CI), the server runs as the
 * `postgres` user, which must own the folder.
 */
export interface PgServer {
  url: string;
  port: number;
  dir: string;
  start(): Promise<void>;
  /** `immediate` is a crash (WAL recovery at the next start); `fast` a clean stop that ends every session. */
  stop(mode?: 'immediate' | 'fast'): Promise<void>;
  destroy(): Promise<void>;
}

/** The folder holding initdb and pg_ctl, or undefined (with why) when there is none. */
export function findPgBin(): { bin?: string; reason?: string } {
  const candidates = [process.env.PG_BIN, ...listVersions()].filter((d): d is string => Boolean(d));
  for (const dir of candidates) {
    if (existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'))) return { bin: dir };
  }
  return { reason: `no initdb/pg_ctl found (looked in ${candidates.join(', ') || '/usr/lib/postgresql/*/bin'}; set PG_BIN)` };
}

function listVersions(): string[] {
  try {
    return readdirSync('/usr/lib/postgresql')
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => `/usr/lib/postgresql/${v}/bin`);
  } catch {
    return [];
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export async function startPgServer(bin: string): Promise<PgServer> {
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-pg-'));
  const data = path.join(dir, 'data');
  let uid: number | undefined;
  let gid: number | undefined;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    uid = Number(stdout.trim());
    gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const exec = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args]) : run(path.join(bin, cmd), args);
  await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const options = [`-p ${port}`, `-k ${dir}`, "-c listen_addresses='127.0.0.1'", '-c fsync=off', '-c max_connections=40'].join(
    ' ',
  );
  const start = async () => {
    await exec('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    start,
    async stop(mode = 'immediate') {
      await exec('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
    },
    async destroy() {
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
