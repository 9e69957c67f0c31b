import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { createDb, type Db, migrateLatest } from '../src/db/index.ts';
import { enqueue } from '../src/features/notifications/outbox.ts';
import { startFakeProviders } from './support/fake-providers.ts';
import { type ServerProcess, startServerProcess } from './support/server-process.ts';

/**
 * The real server process (src/main.ts, as `npm start` runs it) and SIGTERM during a request: the
 * request in flight is answered, new connections are refused, the process exits 0. The request is
 * slow the natural way: its body arrives in two parts, and SIGTERM lands between them.
 * The process under test is the point, not the database: it always runs on its own SQLite file
 * (so the PostgreSQL pass repeats it, which costs seconds and keeps every test in both passes).
 */

interface Server extends ServerProcess {
  filename: string;
  /** Removes the database folder (after the process exited). */
  cleanup: () => void;
}

/** Starts src/main.ts (startServerProcess) on a fresh SQLite file; `prepare` may fill that database first. */
async function startServer(env: Record<string, string>, prepare?: (db: Db) => Promise<void>): Promise<Server> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-shutdown-'));
  const filename = path.join(dir, 'app.sqlite');
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    if (prepare) {
      const db = createDb({ client: 'sqlite', filename });
      try {
        await migrateLatest(db);
        await prepare(db);
      } finally {
        await db.destroy();
      }
    }
    // The app's own default (the worker in the web process) unless a test says otherwise.
    const server = await startServerProcess({
      DATABASE_URL: `sqlite:${filename}`,
      LOG_LEVEL: 'info',
      WORKER_IN_PROCESS: 'true',
      ...env,
    });
    return { ...server, filename, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}

const until = async (what: string, check: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

test('SIGTERM during a request: the request is answered, new connections are refused, exit code 0', async (t) => {
  const server = await startServer({});
  t.teardown(async () => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await server.exited;
    server.cleanup();
  });

  // A sign-in whose JSON body is sent in two parts: the server holds the request open in between.
  const body = JSON.stringify({ username: 'nobody_at_all', password: 'not the password' });
  const socket = net.connect(server.port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  let response = '';
  let socketEnded = false;
  socket.on('data', (chunk) => {
    response += String(chunk);
  });
  socket.on('end', () => {
    socketEnded = true;
  });
  socket.write(
    [
      'POST /api/login HTTP/1.1',
      `Host: 127.0.0.1:${server.port}`,
      'Content-Type: application/json',
      'Accept: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      '',
    ].join('\r\n') + body.slice(0, 10),
  );
  await new Promise((r) => setTimeout(r, 300));
  t.is(response, '', 'nothing answered before the body is complete');

  server.child.kill('SIGTERM');
  await until('"shutting down" in the log', () => server.output().includes('"shutting down"'));
  // Stopped accepting: a new connection is refused while the old request is still open.
  const refused = await fetch(`http://127.0.0.1:${server.port}/api/health`).then(
    () => false,
    () => true,
  );
  t.true(refused, 'new connections are refused once SIGTERM arrived');
  t.is(server.child.exitCode, null, 'the process waits for the request in flight');

  socket.write(body.slice(10));
  await until('the response', () => response.includes('\r\n\r\n') && response.includes('}'));
  t.regex(response, /^HTTP\/1\.1 401 /, 'the in-flight request got its real answer');
  t.regex(response, /"error":/);

  // The kept-alive connection is let go after its response; the process then closes the pool and exits.
  const { code, signal } = await server.exited;
  t.is(signal, null);
  t.is(code, 0, server.output());
  t.true(socketEnded || socket.destroyed, 'the server closed the idle connection');
  t.regex(server.output(), /"msg":"stopped"/);
  socket.destroy();
});

test('SIGTERM while the in-process worker is sending: the send finishes and is recorded, then exit 0', async (t) => {
  const fake = await startFakeProviders();
  t.teardown(() => fake.close());
  const gate = fake.hold('resend');
  let released = false;
  t.teardown(() => {
    if (!released) gate.release();
  });
  const arrived = fake.next('resend');
  const server = await startServer({ ...fake.env(['resend']), NOTIFY_POLL_MS: '50' }, (db) =>
    enqueue(db, [
      {
        notification_type: 'test',
        channel: 'email',
        recipient: { id: null, email: 'someone@example.test', phone: null },
        subject: 'In flight',
        text: 'Sent while the server is stopping.',
      },
    ]),
  );
  t.teardown(async () => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await server.exited;
    server.cleanup();
  });
  await arrived;
  server.child.kill('SIGTERM');
  await until('"shutting down" in the log', () => server.output().includes('"shutting down"'));
  await new Promise((r) => setTimeout(r, 300));
  t.is(server.child.exitCode, null, 'the process waits for the send in flight');
  released = true;
  gate.release();
  const { code } = await server.exited;
  t.is(code, 0, server.output());
  t.regex(server.output(), /"msg":"notification worker stopped"/);
  // The outcome was written before the pool closed: the provider's answer is recorded, not lost.
  const db = createDb({ client: 'sqlite', filename: server.filename });
  t.teardown(() => db.destroy());
  const row = await db('notifications').first();
  t.is(row?.status, 'sent');
  t.is(row?.provider, 'resend');
  t.truthy(row?.provider_message_id);
});

test('RUN_SEED_ON_START=true loads the demo data at start; the demo accounts can sign in', async (t) => {
  const server = await startServer({
    RUN_SEED_ON_START: 'true',
    DEMO_PASSWORD: 'shutdown-demo-pass',
    WORKER_IN_PROCESS: 'false',
  });
  t.teardown(async () => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await server.exited;
    server.cleanup();
  });
  // Logged before the server listened; the pipe may still hold it when the health check answers.
  await until('the seed in the log', () => server.output().includes('RUN_SEED_ON_START: demo data loaded'));
  const login = await fetch(`http://127.0.0.1:${server.port}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ username: 'demo.tech', password: 'shutdown-demo-pass' }),
  });
  t.is(login.status, 200);
  server.child.kill('SIGTERM');
  t.is((await server.exited).code, 0);
});
