import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createDb, type Db, migrateLatest } from '../../src/db/index.ts';
import { projectRoot } from '../../src/paths.ts';
import { type FakeProviders, startFakeProviders } from './fake-providers.ts';
import { freePort } from './pg-server.ts';

/**
 * The pieces of a scaled-out deployment on loopback, as separate processes: PgBouncer in front of
 * PostgreSQL, web processes and workers of the app as `npm start` and `npm run worker` run them, and
 * HAProxy in front of the web processes. Each can be killed and started again.
 */

/** A child process that can be stopped, killed and started again with the same command. */
export interface Managed {
  readonly name: string;
  readonly port: number;
  /** The process's output, its last 200 KB. */
  output(): string;
  /** Starts it (again) and resolves once it is ready. */
  start(): Promise<void>;
  /** SIGKILL: no chance to finish anything. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  readonly running: boolean;
}

interface ManagedOptions {
  name: string;
  port: number;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Whether the process serves yet, given what it wrote since this start. */
  ready: (output: string) => Promise<boolean>;
}

function managed(options: ManagedOptions): Managed {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  let written = 0;
  const keep = (chunk: Buffer) => {
    const text = String(chunk);
    written += text.length;
    output = (output + text).slice(-200_000);
  };
  /** What the process wrote since `mark` (a count of `written`), as far as it is kept. */
  const since = (mark: number) => output.slice(Math.max(0, output.length - (written - mark)));
  const waitExit = (p: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (p.exitCode !== null || p.signalCode !== null) resolve();
      else p.once('close', () => resolve());
    });
  return {
    name: options.name,
    port: options.port,
    output: () => output,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async start() {
      const mark = written;
      const p = spawn(options.command, options.args, {
        cwd: projectRoot,
        env: options.env ?? process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = p;
      p.stdout?.on('data', keep);
      p.stderr?.on('data', keep);
      exited = waitExit(p);
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        if (await options.ready(since(mark)).catch(() => false)) return;
        if (p.exitCode !== null || p.signalCode !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      p.kill('SIGKILL');
      throw new Error(`${options.name} did not become ready:\n${output.slice(-4000)}`);
    },
    async kill() {
      child?.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 20_000) {
      if (!child) return;
      const p = child;
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

const answers = async (url: string) => (await fetch(url)).status === 200;

/** A TCP port that accepts a connection. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = new net.Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });

/** A folder every user can read and write (PgBouncer runs as `nobody` when the tests run as root). */
export function scratchDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 0o777);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * PgBouncer in transaction mode in front of `server` (PostgreSQL), logging in there as `server.user`
 * whoever connects (auth_type any: loopback tests only), no TLS.
 * Startup parameters PgBouncer 1.18 cannot pass on (`options`, which the app uses for TimeZone) are
 * ignored; each server connection sets the time zone itself (connect_query). PgBouncer refuses to
 * run as root: then it runs as `nobody`.
 */
export async function pgBouncer(server: { host: string; port: number; user: string }, dir: string): Promise<Managed> {
  const port = await freePort();
  const config = path.join(dir, 'pgbouncer.ini');
  writeFileSync(
    config,
    [
      '[databases]',
      `* = host=${server.host} port=${server.port} user=${server.user} connect_query='SET TimeZone=UTC'`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = any',
      'pool_mode = transaction',
      'max_client_conn = 1000',
      'default_pool_size = 20',
      'ignore_startup_parameters = options,extra_float_digits',
      `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
  );
  chmodSync(config, 0o644);
  const asRoot = process.getuid?.() === 0;
  return managed({
    name: 'pgbouncer',
    port,
    command: 'pgbouncer',
    args: [...(asRoot ? ['-u', 'nobody'] : []), config],
    ready: () => listening(port),
  });
}

/** HAProxy round-robin over `backends` (ports on 127.0.0.1), health-checked on /api/ready, on `port`. */
export async function haproxy(backends: number[], dir: string, port?: number): Promise<Managed> {
  port ??= await freePort();
  const config = path.join(dir, 'haproxy.cfg');
  writeFileSync(
    config,
    [
      'global',
      '  maxconn 2000',
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 30s',
      '  timeout server 30s',
      // A connection refused by a dead process is tried on another (requests never sent are safe to move).
      '  retries 3',
      '  option redispatch',
      'frontend web',
      `  bind 127.0.0.1:${port}`,
      '  option forwardfor',
      '  default_backend app',
      'backend app',
      '  balance roundrobin',
      '  option httpchk GET /api/ready',
      ...backends.map((p, i) => `  server web${i + 1} 127.0.0.1:${p} check inter 500ms fall 2 rise 2`),
      '',
    ].join('\n'),
  );
  const check = spawnSync('haproxy', ['-c', '-q', '-f', config], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy refused its configuration: ${check.stderr || check.stdout}`);
  return managed({
    name: 'haproxy',
    port: port as number,
    command: 'haproxy',
    args: ['-db', '-f', config],
    ready: () => listening(port as number),
  });
}

/** The app as `npm start` (role web) or `npm run worker` (role worker) runs it, from the sources. */
export async function appProcess(role: 'web' | 'worker', name: string, env: Record<string, string>): Promise<Managed> {
  const port = await freePort();
  const entry = role === 'web' ? 'src/main.ts' : 'src/worker-main.ts';
  const childEnv: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', PORT: String(port), ...env };
  delete childEnv.TEST_DATABASE_URL;
  return managed({
    name,
    port,
    command: process.execPath,
    args: ['--import', 'tsx', path.join(projectRoot, entry)],
    env: childEnv,
    // A worker serves nothing: it is ready once it logs its start.
    ready: async (since) =>
      role === 'web' ? answers(`http://127.0.0.1:${port}/api/health`) : /notification worker started/.test(since),
  });
}

export interface Cluster {
  db: Db;
  providers: FakeProviders;
  bouncer: Managed;
  lb: Managed;
  webs: Managed[];
  workers: Managed[];
  url: string;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** A PostgreSQL database of the caller's own (migrated here, directly). */
  databaseUrl: string;
  webs: number;
  workers: number;
  /** More environment for every app process. */
  env?: Record<string, string>;
}

/**
 * A deployment on loopback: the database migrated directly, PgBouncer in front of it, `webs` web
 * processes and `workers` workers through PgBouncer (prepared statements off), HAProxy in front of
 * the web processes, and fake Resend and Twilio APIs for the workers to deliver to.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const { databaseUrl } = options;
  const server = new URL(databaseUrl);
  const scratch = scratchDir('ct-scaleout-');
  const db = createDb({ client: 'pg', url: databaseUrl }, { poolMax: 4 });
  // Migrations go to PostgreSQL itself, as the migration job does: a transaction pooler is no place for DDL.
  await migrateLatest(db);
  const providers = await startFakeProviders();
  const bouncer = await pgBouncer(
    { host: server.hostname, port: Number(server.port || 5432), user: server.username || 'postgres' },
    scratch.dir,
  );
  await bouncer.start();
  const pooled = new URL(databaseUrl);
  pooled.host = `127.0.0.1:${bouncer.port}`;
  const lbPort = await freePort();
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    SECRET_KEY: 'cluster-secret-key-0123456789abcdef',
    APP_URL: `http://127.0.0.1:${lbPort}`,
    DATABASE_URL: pooled.toString(),
    DATABASE_PREPARED_STATEMENTS: 'false',
    DATABASE_POOL_MAX: '8',
    MIGRATE_ON_START: 'false',
    WORKER_IN_PROCESS: 'false',
    TRUST_PROXY: 'true',
    LOG_LEVEL: 'warn',
    NOTIFY_POLL_MS: '200',
    ...providers.env(['resend', 'twilio']),
    ...options.env,
  };
  const webs = await Promise.all(Array.from({ length: options.webs }, (_, n) => appProcess('web', `web${n + 1}`, env)));
  const workers = await Promise.all(
    Array.from({ length: options.workers }, (_, n) => appProcess('worker', `worker${n + 1}`, { ...env, LOG_LEVEL: 'info' })),
  );
  await Promise.all([...webs, ...workers].map((p) => p.start()));
  const lb = await haproxy(
    webs.map((w) => w.port),
    scratch.dir,
    lbPort,
  );
  await lb.start();
  const url = `http://127.0.0.1:${lbPort}`;
  // Ready behind the balancer: its health checks have seen every process.
  for (
    let i = 0;
    i < 100 &&
    (await fetch(`${url}/api/ready`)
      .then((r) => r.status)
      .catch(() => 0)) !== 200;
    i++
  )
    await new Promise((r) => setTimeout(r, 100));
  return {
    db,
    providers,
    bouncer,
    lb,
    webs,
    workers,
    url,
    async stop() {
      await Promise.all([...webs, ...workers].map((p) => p.stop(15_000)));
      await lb.stop(5_000);
      await bouncer.stop(5_000);
      await providers.close();
      await db.destroy();
      scratch.remove();
    },
  };
}
