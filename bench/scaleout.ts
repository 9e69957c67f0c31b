import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { issueApiToken } from '../src/features/auth/service.ts';
import { projectRoot } from '../src/paths.ts';
import { startCluster } from '../test/support/cluster.ts';
import { createUser } from '../test/support/factories.ts';
import { scratchDatabase } from '../test/support/scratch-db.ts';

/**
 * `npm run bench:scaleout [-- --seconds 15 --connections 16 --repeat 3]`: throughput through HAProxy
 * and PgBouncer (transaction mode, prepared statements off) with one web process and with three, on
 * the same host and PostgreSQL, the two interleaved `repeat` times (each run its own cluster and
 * database) so that other work on the host weighs on both alike: the JSON list
 * (`GET /api/tickets?limit=50`) and request creation (`POST /api/tickets`); the medians go to
 * bench/results/<date>-scaleout-throughput.json with every run.
 */

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg('seconds', 15);
const CONNECTIONS = arg('connections', 16);
const REPEAT = arg('repeat', 3);
const base = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/cable_ticketing_test';

async function measure(webs: number) {
  const scratch = await scratchDatabase(base);
  const cluster = await startCluster({ databaseUrl: scratch.url, webs, workers: 1, env: { LOG_LEVEL: 'error' } });
  try {
    const tech = await createUser(cluster.db, { username: 'bench_tech' });
    const stock = await createUser(cluster.db, { username: 'bench_stock' });
    const token = (await issueApiToken(cluster.db, tech.id, 3600)).access_token;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' };
    const body = JSON.stringify({
      assigned_to_id: stock.id,
      location: 'Bench riser',
      items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 2 }],
    });
    for (let i = 0; i < 100; i++) await fetch(`${cluster.url}/api/tickets`, { method: 'POST', headers, body });
    const run = (options: autocannon.Options) =>
      new Promise<autocannon.Result>((resolve, reject) =>
        autocannon({ connections: CONNECTIONS, duration: SECONDS, ...options }, (err, result) =>
          err ? reject(err) : resolve(result),
        ),
      );
    const summary = (r: autocannon.Result) => ({
      requestsPerSecond: Math.round(r.requests.average),
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      non2xx: r.non2xx,
      errors: r.errors,
    });
    await run({ url: `${cluster.url}/api/tickets?limit=50`, headers, duration: 3 }); // warm-up
    const list = summary(await run({ url: `${cluster.url}/api/tickets?limit=50`, headers }));
    const create = summary(await run({ url: `${cluster.url}/api/tickets`, method: 'POST', headers, body }));
    return { webs, list, create };
  } finally {
    await cluster.stop();
    await scratch.drop();
  }
}

const runs: Awaited<ReturnType<typeof measure>>[] = [];
for (let i = 0; i < REPEAT; i++) {
  for (const webs of [1, 3]) {
    runs.push(await measure(webs));
    console.log(JSON.stringify({ ...runs.at(-1), load: os.loadavg()[0]?.toFixed(1) }));
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const results = [1, 3].map((webs) => {
  const of = runs.filter((r) => r.webs === webs);
  return {
    webs,
    listRequestsPerSecond: median(of.map((r) => r.list.requestsPerSecond)),
    listP99Ms: median(of.map((r) => r.list.p99Ms)),
    createRequestsPerSecond: median(of.map((r) => r.create.requestsPerSecond)),
    createP99Ms: median(of.map((r) => r.create.p99Ms)),
  };
});
console.log(JSON.stringify(results));
const dir = path.join(projectRoot, 'bench/results');
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `${new Date().toISOString().slice(0, 10)}-scaleout-throughput.json`);
writeFileSync(
  file,
  `${JSON.stringify(
    {
      host: `${os.hostname()}: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
      at: new Date().toISOString(),
      seconds: SECONDS,
      connections: CONNECTIONS,
      repeat: REPEAT,
      results,
      runs,
    },
    null,
    2,
  )}\n`,
);
console.log(`written to ${path.relative(projectRoot, file)}`);
process.exit(0);
