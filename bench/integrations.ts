/**
 * `npm run bench:integrations -- [--deliveries 5000] [--db sqlite|postgres] [--requests 2000] [--label x]`
 *
 * Issue #23's figures, by hand, never in `npm test`:
 *   - webhook delivery: `--deliveries` stock.low events queued for one subscription (emitEvent, 200 to a
 *     transaction), then drained by the webhook worker as `npm start` runs it (batch NOTIFY_BATCH_SIZE,
 *     NOTIFY_CONCURRENCY at once) to a local receiver (node:http, answering 200 after reading the body),
 *     every delivery signed; the receiver checks a sample of signatures with the standardwebhooks
 *     verifier. Reports deliveries per second and the attempts' median and p99 time;
 *   - the OpenAPI document: `--requests` sequential GETs of /api/openapi.json (brotli) over one kept-alive
 *     connection, then as many with If-None-Match (304s); per-request median and p99, and the bytes.
 * Writes bench/results/<date>-integrations-<db>[-label].json with the host it ran on.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { migrateLatest } from '../src/db/index.ts';
import { emitEvent } from '../src/features/webhooks/service.ts';
import { projectRoot } from '../src/paths.ts';
import { freshDatabase, startApp } from '../test/support/app.ts';
import { buildWebhook, webhookWorker } from '../test/support/webhooks.ts';
import { request } from './http.ts';

const { values: args } = parseArgs({
  options: {
    deliveries: { type: 'string', default: '5000' },
    requests: { type: 'string', default: '2000' },
    db: { type: 'string', default: 'sqlite' },
    label: { type: 'string' },
    'pg-url': { type: 'string', default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/cable_ticketing_test' },
  },
});
const deliveries = Number(args.deliveries);
const requests = Number(args.requests);
const onPg = args.db === 'postgres' || args.db === 'pg';
if (onPg) process.env.TEST_DATABASE_URL = args['pg-url'];
else delete process.env.TEST_DATABASE_URL;

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const round = (n: number) => Math.round(n * 10) / 10;
const hundredths = (n: number) => Math.round(n * 100) / 100;

/** A receiver that reads each body and answers 200; every 100th request's signature is verified. */
async function startReceiver() {
  let received = 0;
  let verified = 0;
  let secret = '';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received += 1;
      if (received % 100 === 1) {
        new Webhook(secret).verify(Buffer.concat(chunks).toString(), req.headers as Record<string, string>);
        verified += 1;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    useSecret: (s: string) => {
      secret = s;
    },
    counts: () => ({ received, verified }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function webhookDrain() {
  const app = await startApp({ WEBHOOK_ALLOW_PRIVATE: 'true', LOG_LEVEL: 'silent' });
  const receiver = await startReceiver();
  try {
    const hook = await buildWebhook(app, { url: receiver.url, events: ['stock.low'] });
    receiver.useSecret(hook.secret);
    const now = new Date();
    for (let i = 0; i < deliveries; i += 200) {
      await app.db.transaction(async (trx) => {
        for (let k = i; k < Math.min(deliveries, i + 200); k++) {
          await emitEvent(
            trx,
            'stock.low',
            { cable_type: 'Cat6', cable_length: `${k}m`, on_hand: 3, reorder_threshold: 10 },
            now,
          );
        }
      });
    }
    const worker = webhookWorker(app, {}, pino({ level: 'silent' }));
    const started = process.hrtime.bigint();
    let delivered = 0;
    for (;;) {
      const report = await worker.runOnce();
      delivered += report.delivered;
      if (report.claimed === 0) break;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await worker.stop();
    const ms = ((await app.db('webhook_attempts').select('duration_ms')) as { duration_ms: number }[])
      .map((r) => r.duration_ms)
      .sort((a, b) => a - b);
    const { received, verified } = receiver.counts();
    if (delivered !== deliveries || received !== deliveries)
      throw new Error(`delivered ${delivered}, received ${received} of ${deliveries}`);
    return {
      deliveries,
      seconds: round(seconds),
      per_second: round(deliveries / seconds),
      attempt_median_ms: quantile(ms, 0.5),
      attempt_p99_ms: quantile(ms, 0.99),
      signatures_verified: verified,
      batch: app.config.notifications.batchSize,
      concurrency: app.config.notifications.concurrency,
    };
  } finally {
    await receiver.close();
    await app.close();
  }
}

async function openapiServing() {
  const app = await startApp({ LOG_LEVEL: 'silent' });
  try {
    const timed = async (headers: Record<string, string>) => {
      const times: number[] = [];
      let last = { status: 0, bytes: 0 };
      for (let i = 0; i < requests; i++) {
        const started = process.hrtime.bigint();
        const res = await request(app.url, '/api/openapi.json', { headers, keepAlive: true });
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
        last = { status: res.status, bytes: res.body.length };
      }
      times.sort((a, b) => a - b);
      return { ...last, median_ms: hundredths(quantile(times, 0.5)), p99_ms: hundredths(quantile(times, 0.99)) };
    };
    const first = await request(app.url, '/api/openapi.json', { headers: { 'accept-encoding': 'br' } });
    const plain = await request(app.url, '/api/openapi.json');
    const etag = String(first.headers.etag);
    return {
      requests,
      uncompressed_bytes: plain.body.length,
      full_br: await timed({ 'accept-encoding': 'br' }),
      not_modified: await timed({ 'accept-encoding': 'br', 'if-none-match': etag }),
    };
  } finally {
    await app.close();
  }
}

// A scratch database to migrate first, so the drain's own app is not the first to compile migrations.
const scratch = await freshDatabase();
await migrateLatest(scratch.db);
await scratch.drop();

const result = {
  date: new Date().toISOString(),
  host: { hostname: os.hostname(), cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? '', node: process.version },
  database: onPg ? 'postgres' : 'sqlite',
  webhook_delivery: await webhookDrain(),
  openapi_document: await openapiServing(),
};
console.log(JSON.stringify(result, null, 2));
const file = path.join(
  projectRoot,
  'bench',
  'results',
  `${result.date.slice(0, 10)}-integrations-${result.database}${args.label ? `-${args.label}` : ''}.json`,
);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`written to ${path.relative(projectRoot, file)}`);
