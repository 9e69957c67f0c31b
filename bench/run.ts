/**
 * `npm run bench -- [--db sqlite|postgres] [--tickets 10000|1000000] [options]`
 *
 * Builds the app (`npm run build`), makes a fresh database (a scratch PostgreSQL database, created and
 * dropped, or a temp SQLite file), migrates it, generates data (bench/generate.ts), starts the built app
 * in production mode the way `npm start` does, signs in (a session cookie and a bearer token), then:
 *   - load: each scenario warmed up, then 50 connections for 10 s (autocannon), compressed responses;
 *   - scale: each dashboard query alone (one connection, sequential), to compare 10k with 1M;
 *   - the outbox drain: queued rows delivered by `npm run worker` to a local fake Resend/SendGrid/Twilio.
 * Prints one table with the issue's goals beside the figures and writes bench/results/<date>-<db>-<tickets>.json.
 * Options: --duration s, --warmup s, --repeat n (measured runs per load scenario, the median reported),
 * --connections n, --drain n, --skip-build, --keep (keep the database),
 * --profile (app under `node --cpu-prof`, profile in bench/tmp/), --explain (query plans to bench/results/; bench/tmp/ with --only),
 * --only a,b (scenarios whose name contains a or b), --scale-requests n (per query in the scale run),
 * --scale-warmup n (requests per query before it is measured, 100),
 * --pg-url postgres://user@host:port (server to use),
 * --wait-quiet s (before each load scenario, wait up to s seconds for other work on the machine to stop),
 * --node-options='...' (the app's NODE_OPTIONS; default the Dockerfile's, --max-old-space-size=192), --label x
 * (appended to the results file name, for runs with other options).
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import knexFactory, { type Knex } from 'knex';
import { createDb, migrateLatest } from '../src/db/index.ts';
import { projectRoot } from '../src/paths.ts';
import { startFakeProviders } from '../test/support/fake-providers.ts';
import { freePort } from '../test/support/pg-server.ts';
import { memoryOf } from '../test/support/server-process.ts';
import { type CpuSplit, otherLoad, startCpu } from './cpu.ts';
import { explainQueries } from './explain.ts';
import { BENCH_PASSWORD, BENCH_USER, generateData, newTicketBody, queueNotifications, scaleFor } from './generate.ts';
import { CookieJar, request, waitFor200 } from './http.ts';
import { dashboardLists, dashboardUrl } from './queries.ts';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'sqlite' },
    tickets: { type: 'string', default: '10000' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    repeat: { type: 'string', default: '1' },
    connections: { type: 'string', default: '50' },
    drain: { type: 'string', default: '5000' },
    'scale-requests': { type: 'string', default: '200' },
    'scale-warmup': { type: 'string', default: '100' },
    'skip-build': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    explain: { type: 'boolean', default: false },
    only: { type: 'string' },
    'wait-quiet': { type: 'string', default: '0' },
    'node-options': { type: 'string', default: '--max-old-space-size=192' },
    label: { type: 'string' },
    'pg-url': { type: 'string', default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432' },
  },
});

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const onPg = args.db === 'postgres' || args.db === 'pg';
if (!onPg && args.db !== 'sqlite') throw new Error('--db must be sqlite or postgres');
const tickets = Number(args.tickets);
/** The results' file name, without extension: <date>-<db>-<tickets>[-<label>] (the plans take the same). */
const labelSuffix = args.label ? `-${args.label.replace(/\W+/g, '-')}` : '';
const resultName = `${stamp.slice(0, 10)}-${onPg ? 'postgres' : 'sqlite'}-${tickets}${labelSuffix}`;
const duration = Number(args.duration);
const warmup = Number(args.warmup);
const repeat = Math.floor(Number(args.repeat));
if (!(repeat >= 1)) throw new Error('--repeat must be a whole number of runs, 1 or more');
const connections = Number(args.connections);
const drainCount = Number(args.drain);
const scaleRequests = Number(args['scale-requests']);
const scaleWarmup = Number(args['scale-warmup']);
const only = args.only?.split(',').map((s) => s.trim().toLowerCase());
const waitQuietSeconds = Number(args['wait-quiet']);
const wanted = (name: string) => !only || only.some((o) => name.toLowerCase().includes(o));

const tmpDir = path.join(projectRoot, 'bench/tmp');
const resultsDir = path.join(projectRoot, 'bench/results');
mkdirSync(tmpDir, { recursive: true });
mkdirSync(resultsDir, { recursive: true });
const say = (line: string) => process.stdout.write(`${line}\n`);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The issue's goals (PostgreSQL, this machine). */
const GOALS = {
  listRps: 1000,
  listP99: 100,
  postRps: 300,
  drainRate: 200,
  rssMb: 200,
  startupMs: 2000,
  scaleRatio: 1.5,
};

// ---- machine ------------------------------------------------------------------------------------

function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? 'unknown',
    memory_gb: round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
  };
}

const loadAverage = () => os.loadavg().map((n) => round(n, 2));

// ---- database -----------------------------------------------------------------------------------

interface BenchDb {
  url: string;
  label: string;
  /** The knex the bench itself uses (generation, counting, the drain's rows). */
  connect(poolMax?: number): Knex;
  drop(): Promise<void>;
}

async function freshDatabase(): Promise<BenchDb> {
  if (onPg) {
    const base = args['pg-url'].replace(/\/+$/, '');
    const name = `ct_bench_${Date.now().toString(36)}`;
    const admin = knexFactory({ client: 'pg', connection: `${base}/postgres`, pool: { min: 0, max: 1 } });
    await admin.raw(`CREATE DATABASE ${name}`);
    const url = `${base}/${name}`;
    return {
      url,
      label: name,
      connect: (poolMax = 1) => createDb({ client: 'pg', url }, { poolMax }),
      async drop() {
        await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.destroy();
      },
    };
  }
  const filename = path.join(tmpDir, `bench-${stamp}.sqlite`);
  return {
    url: `sqlite:${filename}`,
    label: path.relative(projectRoot, filename),
    connect: () => createDb({ client: 'sqlite', filename }),
    async drop() {
      for (const suffix of ['', '-wal', '-shm']) rmSync(filename + suffix, { force: true });
    },
  };
}

async function versionOf(db: Knex): Promise<string> {
  if (onPg) return ((await db.raw('SHOW server_version')).rows[0] as { server_version: string }).server_version;
  const [row] = (await db.raw('select sqlite_version() as v')) as { v: string }[];
  return `SQLite ${row?.v}`;
}

// ---- processes ----------------------------------------------------------------------------------

interface Child {
  pid: number;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

function startNode(entry: string, env: Record<string, string>, logFile: string, nodeArgs: string[] = []): Child {
  const log = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [...nodeArgs, 'scripts/run.mjs', ...(entry === 'src/main.ts' ? ['--assets'] : []), entry],
    {
      cwd: projectRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', log, log],
    },
  );
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    pid: child.pid ?? 0,
    exited,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Resident memory of a process in MB, from /proc (Linux). */
function memoryMbOf(pid: number): { rss_mb: number; peak_rss_mb: number } | undefined {
  const memory = memoryOf(pid);
  return memory && { rss_mb: round(memory.rssKb / 1024), peak_rss_mb: round(memory.peakKb / 1024) };
}

// ---- signing in ---------------------------------------------------------------------------------

interface Credentials {
  cookie: string;
  token: string;
}

async function signIn(base: string): Promise<Credentials> {
  const jar = new CookieJar();
  const form = await request(base, '/login');
  jar.take(form.headers);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body.toString())?.[1];
  if (!csrf) throw new Error('no CSRF token on /login');
  const body = new URLSearchParams({ _csrf: csrf, username: BENCH_USER, password: BENCH_PASSWORD }).toString();
  const signedIn = await request(base, '/login', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
  });
  if (signedIn.status !== 303) throw new Error(`sign-in answered ${signedIn.status}`);
  jar.take(signedIn.headers);
  // The first page after sign-in takes the welcome flash out of the session: later pages are ordinary.
  jar.take((await request(base, '/', { headers: { cookie: jar.header() } })).headers);
  const api = await request(base, '/api/login', {
    method: 'POST',
    body: JSON.stringify({ username: BENCH_USER, password: BENCH_PASSWORD }),
    headers: { 'content-type': 'application/json' },
  });
  const token = JSON.parse(api.body.toString()).access_token as string | undefined;
  if (!token) throw new Error(`API sign-in answered ${api.status}`);
  return { cookie: jar.header(), token };
}

// ---- scenarios ----------------------------------------------------------------------------------

interface Scenario {
  name: string;
  method?: 'GET' | 'POST';
  path: string;
  auth: 'cookie' | 'bearer';
  htmx?: boolean;
  body?: string;
  /** A body per request (the n-th), instead of one `body` for all. */
  bodies?: (n: number) => string;
  /** The goal this scenario is held to, printed beside it. */
  goal?: { rps?: number; p99?: number };
}

const BROWSER_ENCODINGS = 'gzip, deflate, br';

function headersFor(s: Scenario, creds: Credentials): Record<string, string> {
  const h: Record<string, string> = { 'accept-encoding': BROWSER_ENCODINGS };
  if (s.auth === 'cookie') {
    h.cookie = creds.cookie;
    h.accept = 'text/html';
  } else {
    h.authorization = `Bearer ${creds.token}`;
    h.accept = 'application/json';
  }
  if (s.htmx) h['hx-request'] = 'true';
  if (s.body || s.bodies) h['content-type'] = 'application/json';
  return h;
}

interface LoadResult {
  name: string;
  method: string;
  path: string;
  rps: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  requests: number;
  errors: number;
  non2xx: number;
  bytes_compressed: number | null;
  bytes_uncompressed: number | null;
  encoding: string | null;
  /** CPU per request (app, PostgreSQL) and cores in use (app, PostgreSQL, the bench, anything else). */
  cpu?: CpuSplit;
  /** Cores other work was using just before this scenario started. */
  other_cores_before?: number;
  /** With --repeat: each measured run's req/s (the figures above are the median run's). */
  runs_rps?: number[];
  goal?: Scenario['goal'];
  goal_met?: boolean;
}

async function bytesOf(base: string, s: Scenario, creds: Credentials) {
  if (s.method === 'POST') return { compressed: null, uncompressed: null, encoding: null };
  const headers = headersFor(s, creds);
  const packed = await request(base, s.path, { headers });
  const plain = await request(base, s.path, { headers: { ...headers, 'accept-encoding': 'identity' } });
  if (packed.status !== 200 || plain.status !== 200) throw new Error(`${s.name}: ${s.path} answered ${packed.status}`);
  return {
    compressed: packed.body.length,
    uncompressed: plain.body.length,
    encoding: (packed.headers['content-encoding'] as string | undefined) ?? 'identity',
  };
}

/**
 * Requests sent with a per-request body so far (each gets its own n). autocannon also asks each
 * connection for one body when it is set up, so a run skips ~`connections` values of n.
 */
let sent = 0;

function cannon(base: string, s: Scenario, creds: Credentials, seconds: number, conns: number): Promise<autocannon.Result> {
  return autocannon({
    url: base + s.path,
    method: s.method ?? 'GET',
    headers: headersFor(s, creds),
    body: s.body,
    ...(s.bodies ? { requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, body: s.bodies?.(sent++) }) }] } : {}),
    connections: conns,
    duration: seconds,
    timeout: 10,
  });
}

/** Waits (up to --wait-quiet seconds) until the machine's other work uses under a third of a core. */
async function quiet(appPid: number): Promise<number> {
  let other = await otherLoad(1000, [appPid]);
  const until = performance.now() + waitQuietSeconds * 1000;
  while (other > 0.33 && performance.now() < until) other = await otherLoad(2000, [appPid]);
  return other;
}

async function load(base: string, s: Scenario, creds: Credentials, appPid: number): Promise<LoadResult> {
  const bytes = await bytesOf(base, s, creds);
  const otherBefore = await quiet(appPid);
  if (warmup > 0) await cannon(base, s, creds, warmup, connections);
  // --repeat n: n measured runs back to back, the median by req/s reported (the slower middle run
  // for an even n; a shared host's speed moved by a third between runs minutes apart); every run's
  // req/s is kept in the results.
  const runs: { r: Awaited<ReturnType<typeof cannon>>; split: ReturnType<ReturnType<typeof startCpu>> }[] = [];
  for (let i = 0; i < repeat; i++) {
    const cpu = startCpu(appPid);
    const r = await cannon(base, s, creds, duration, connections);
    // PostgreSQL's share only means something when the app uses it (other work on the box may).
    runs.push({ r, split: cpu(r.requests.total, onPg) });
  }
  const rpsOf = (x: (typeof runs)[number]) => x.r.requests.total / x.r.duration;
  const sorted = [...runs].sort((a, b) => rpsOf(a) - rpsOf(b));
  const { r, split } = sorted[Math.floor((sorted.length - 1) / 2)] as (typeof runs)[number];
  const result: LoadResult = {
    name: s.name,
    method: s.method ?? 'GET',
    path: s.path,
    rps: Math.round(r.requests.total / r.duration),
    p50_ms: r.latency.p50,
    p90_ms: r.latency.p90,
    p99_ms: r.latency.p99,
    max_ms: r.latency.max,
    requests: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    bytes_compressed: bytes.compressed,
    bytes_uncompressed: bytes.uncompressed,
    encoding: bytes.encoding,
    cpu: split,
    other_cores_before: otherBefore,
    ...(runs.length > 1 ? { runs_rps: runs.map((x) => Math.round(rpsOf(x))) } : {}),
  };
  if (s.goal) {
    result.goal = s.goal;
    result.goal_met =
      (s.goal.rps === undefined || result.rps >= s.goal.rps) &&
      (s.goal.p99 === undefined || result.p99_ms <= s.goal.p99) &&
      result.errors + result.non2xx === 0;
  }
  return result;
}

interface ScaleResult {
  name: string;
  path: string;
  rows: number | null;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  mean_ms: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

/** One request at a time on one kept-alive connection: the latency of the query path itself. */
async function scale(base: string, s: Scenario, creds: Credentials): Promise<ScaleResult> {
  const headers = headersFor(s, creds);
  const first = await request(base, s.path, { headers: { ...headers, 'accept-encoding': 'identity' } });
  if (first.status !== 200) throw new Error(`${s.name}: ${s.path} answered ${first.status}`);
  const text = first.body.toString();
  const json = s.auth === 'bearer' ? JSON.parse(text) : undefined;
  const rows = json
    ? Array.isArray(json)
      ? json.length
      : null
    : s.htmx
      ? (text.match(/class="ticket-link"/g) ?? []).length
      : null;
  // Warmed until steady: with 10 requests, the first pass at a million tickets ran 12–40 % slower than
  // the same queries after the load (V8 not yet optimising the path, the query's pages not yet in
  // PostgreSQL's buffers), while at 10k it did not: a cold start measured as if it were scale.
  for (let i = 0; i < scaleWarmup; i++) await request(base, s.path, { headers, keepAlive: true });
  const times: number[] = [];
  const deadline = performance.now() + 20_000;
  for (let i = 0; i < scaleRequests && performance.now() < deadline; i++) {
    const t0 = performance.now();
    const res = await request(base, s.path, { headers, keepAlive: true });
    times.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`${s.name}: ${res.status}`);
  }
  times.sort((a, b) => a - b);
  return {
    name: s.name,
    path: s.path,
    rows,
    p50_ms: round(percentile(times, 50), 2),
    p90_ms: round(percentile(times, 90), 2),
    p99_ms: round(percentile(times, 99), 2),
    mean_ms: round(times.reduce((a, b) => a + b, 0) / times.length, 2),
  };
}

// ---- the outbox drain ---------------------------------------------------------------------------

interface DrainResult {
  messages: number;
  seconds: number;
  rate_per_s: number;
  seconds_with_startup: number;
  sent: number;
  other_outcomes: Record<string, number>;
  worker_rss_mb: number | null;
  goal: number;
  goal_met: boolean;
}

async function drain(bench: BenchDb, appEnv: Record<string, string>): Promise<DrainResult> {
  const db = bench.connect(2);
  try {
    await queueNotifications(db, onPg, drainCount, tickets);
    const open = async () => {
      const [row] = await db('notifications').whereIn('status', ['queued', 'sending']).count({ n: '*' });
      return Number((row as { n: number | string }).n);
    };
    const total = await open();
    const [first] = await db('notifications').whereIn('status', ['queued', 'sending']).min({ id: 'id' });
    const firstId = Number((first as { id: number | string }).id);
    const fake = await startFakeProviders();
    const spawned = performance.now();
    // Delivery alone: the worker's timed work would also remind and escalate the generated requests
    // that wait for approval (their notifications are not the queued rows this measures).
    const worker = startNode(
      'src/worker-main.ts',
      { ...appEnv, ...fake.env(), LOG_LEVEL: 'warn', APPROVAL_REMIND_MAX: '0', APPROVAL_ESCALATE_AFTER_HOURS: '0' },
      path.join(tmpDir, `worker-${stamp}.log`),
    );
    let firstAt = 0;
    let remaining = total;
    let workerRss: number | null = null;
    while (remaining > 0 && performance.now() - spawned < 300_000) {
      await new Promise((r) => setTimeout(r, 50));
      remaining = await open();
      if (!firstAt && (remaining < total || fake.requests.length > 0)) firstAt = performance.now();
      if (remaining < total / 2 && workerRss === null) workerRss = memoryMbOf(worker.pid)?.rss_mb ?? null;
    }
    const endedAt = performance.now();
    await worker.stop();
    await fake.close();
    const outcomes = (await db('notifications')
      .select('status')
      .count({ n: '*' })
      .where('id', '>=', firstId)
      .groupBy('status')) as { status: string; n: number | string }[];
    const byStatus = Object.fromEntries(outcomes.map((r) => [r.status, Number(r.n)]));
    const seconds = (endedAt - (firstAt || spawned)) / 1000;
    const rate = Math.round(total / seconds);
    const { sent = 0, ...other } = byStatus;
    return {
      messages: total,
      seconds: round(seconds, 2),
      rate_per_s: rate,
      seconds_with_startup: round((endedAt - spawned) / 1000, 2),
      sent,
      other_outcomes: other,
      worker_rss_mb: workerRss,
      goal: GOALS.drainRate,
      goal_met: rate >= GOALS.drainRate && remaining === 0,
    };
  } finally {
    await db.destroy();
  }
}

// ---- printing -----------------------------------------------------------------------------------

function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows].map((r) => r.map(String));
  const widths = head.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c] ?? 0) : v.padStart(widths[c] ?? 0))).join('  ');
  return [line(cells[0] ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const kb = (n: number | null) => (n === null ? '-' : n >= 1024 ? `${round(n / 1024)} KB` : `${n} B`);
const mark = (met: boolean | undefined) => (met === undefined ? '' : met ? 'met' : 'MISSED');
/** A row of the report's table that is one figure against its goal: the load columns left '-'. */
const goalRow = (name: string, value: string | number, goal: string, met: boolean | undefined, errors: number | '-' = '-') => [
  name,
  value,
  '-',
  '-',
  errors,
  ...Array<string>(5).fill('-'),
  goal,
  mark(met),
];

/**
 * The latest recorded run at 10,000 tickets on the same database and with the same --label (a host's
 * runs are labelled alike), for the 1.5x comparison.
 */
function baseline(): { file: string; scale: ScaleResult[] } | undefined {
  if (tickets <= 10_000) return undefined;
  const files = readdirSync(resultsDir)
    .filter((f) => f.endsWith(`-${onPg ? 'postgres' : 'sqlite'}-10000${labelSuffix}.json`))
    .sort();
  const file = files.at(-1);
  if (!file) return undefined;
  const json = JSON.parse(readFileSync(path.join(resultsDir, file), 'utf8')) as { scale?: ScaleResult[] };
  return json.scale ? { file, scale: json.scale } : undefined;
}

// ---- main ---------------------------------------------------------------------------------------

async function main() {
  const before = loadAverage();
  say(`bench: ${onPg ? 'PostgreSQL' : 'SQLite'}, ${tickets.toLocaleString('en-US')} tickets; load average ${before.join(' ')}`);
  if (!args['skip-build']) {
    say('npm run build');
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: projectRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  }

  const bench = await freshDatabase();
  say(`database: ${bench.label}`);
  let app: Child | undefined;
  try {
    const genDb = bench.connect(1);
    await migrateLatest(genDb);
    const databaseVersion = await versionOf(genDb);
    say(`generating ${tickets.toLocaleString('en-US')} tickets`);
    const generation = await generateData(genDb, onPg, tickets, say);
    await genDb.destroy();
    say(
      `generated in ${generation.seconds} s: ${Object.entries(generation.rows)
        .map(([t, n]) => `${t} ${n.toLocaleString('en-US')}`)
        .join(', ')}`,
    );

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const appEnv = {
      NODE_ENV: 'production',
      DATABASE_URL: bench.url,
      SECRET_KEY: 'bench-secret-key-0123456789abcdef',
      PORT: String(port),
      HOST: '127.0.0.1',
      APP_URL: base,
      LOG_LEVEL: 'info',
      // The production shape: web and worker apart (the drain runs its own `npm run worker`).
      WORKER_IN_PROCESS: 'false',
      // As the Dockerfile's runtime image runs it, unless --node-options says otherwise.
      NODE_OPTIONS: args['node-options'],
    };
    const profileDir = path.join(tmpDir, `prof-${stamp}`);
    const appLog = path.join(tmpDir, `app-${stamp}.log`);
    const started = performance.now();
    app = startNode('src/main.ts', appEnv, appLog, args.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []);
    const died = app.exited.then((code) => {
      throw new Error(`the app exited (code ${code}) before it was healthy: see ${path.relative(projectRoot, appLog)}`);
    });
    const startupMs = Math.round(await Promise.race([waitFor200(base, '/api/health', started, 30_000), died]));
    died.catch(() => {});
    const readyMs = Math.round(await waitFor200(base, '/api/ready', started, 30_000));
    say(
      `app (dist/, NODE_ENV=production) healthy after ${startupMs} ms, ready after ${readyMs} ms; log ${path.relative(projectRoot, appLog)}`,
    );

    const creds = await signIn(base);
    const apiGet = async (p: string) =>
      JSON.parse((await request(base, p, { headers: { authorization: `Bearer ${creds.token}` } })).body.toString());
    // A ticket page worth looking at: a recent closed request with several items and a full timeline.
    const closed = (await apiGet('/api/tickets?status=closed&limit=50')) as { id: number; items: unknown[] }[];
    const ticketId = (closed.find((t) => t.items.length >= 2) ?? closed[0])?.id;
    if (!ticketId) throw new Error('no closed ticket to show');
    const mid = Math.floor(tickets / 2);
    const sc = scaleFor(tickets);
    const assignee = 1 + (sc.approvers > 1 ? 1 : 0);

    const listGoal = { rps: GOALS.listRps, p99: GOALS.listP99 };
    const loadScenarios: Scenario[] = [
      { name: 'dashboard page', path: '/', auth: 'cookie' },
      { name: 'dashboard list partial', path: '/', auth: 'cookie', htmx: true, goal: listGoal },
      { name: 'GET /api/tickets?limit=50', path: '/api/tickets?limit=50', auth: 'bearer', goal: listGoal },
      { name: 'ticket page', path: `/tickets/${ticketId}`, auth: 'cookie' },
      { name: 'GET /api/dashboard/stats', path: '/api/dashboard/stats', auth: 'bearer' },
      { name: 'GET /api/inventory/on-hand', path: '/api/inventory/on-hand', auth: 'bearer' },
      {
        name: 'POST /api/tickets',
        method: 'POST',
        path: '/api/tickets',
        auth: 'bearer',
        bodies: (n) => newTicketBody(n, assignee),
        goal: { rps: GOALS.postRps },
      },
    ];
    const part = (name: string, p: string): Scenario => ({ name, path: p, auth: 'cookie', htmx: true });
    const scaleScenarios: Scenario[] = [
      ...dashboardLists(mid).map(({ name, filter }) => part(name, dashboardUrl(filter))),
      { name: 'GET /api/tickets?limit=50', path: '/api/tickets?limit=50', auth: 'bearer' },
      { name: 'stats', path: '/api/dashboard/stats', auth: 'bearer' },
      { name: 'ticket page', path: `/tickets/${ticketId}`, auth: 'cookie' },
    ];

    const scaleResults: ScaleResult[] = [];
    say('\nscale: each query alone (one connection, sequential)');
    for (const s of scaleScenarios.filter((x) => wanted(x.name))) {
      const r = await scale(base, s, creds);
      scaleResults.push(r);
      say(`  ${r.name}: p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms (${r.rows ?? '-'} rows)`);
    }

    const loadResults: LoadResult[] = [];
    say(`\nload: ${connections} connections, ${warmup} s warm-up, ${duration} s measured`);
    for (const s of loadScenarios.filter((x) => wanted(x.name))) {
      const r = await load(base, s, creds, app.pid);
      loadResults.push(r);
      const c = r.cpu;
      say(
        `  ${r.name}: ${r.rps} req/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, errors ${r.errors + r.non2xx}` +
          (c
            ? `; CPU/request app ${c.app_ms_per_request} ms${onPg ? `, PostgreSQL ${c.postgres_ms_per_request} ms` : ''}; other work ${c.cores.other} cores`
            : ''),
      );
    }
    const memory = memoryMbOf(app.pid);

    // The searches again, now that the load has written (POST /api/tickets): new rows and index
    // entries not yet vacuumed, as a live database has them (the first pass ran on freshly vacuumed data).
    const written = loadResults.some((r) => r.method === 'POST' && r.requests - r.non2xx - r.errors > 0);
    if (written) {
      say("\nscale, searches after the load's writes");
      for (const s of scaleScenarios.filter((x) => x.name.startsWith('search:') && wanted(x.name))) {
        const r = await scale(base, { ...s, name: `${s.name}, after writes` }, creds);
        scaleResults.push(r);
        say(`  ${r.name}: p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms (${r.rows ?? '-'} rows)`);
      }
    }

    let explainFile: string | undefined;
    if (args.explain) {
      const db = bench.connect(1);
      const text = await explainQueries(db, onPg, { viewerId: 1, ticketId, cursor: mid });
      await db.destroy();
      // A partial run's (--only) plans go to bench/tmp: they must not replace a recorded run's.
      explainFile = path.join(only ? tmpDir : resultsDir, `${resultName}-explain.txt`);
      writeFileSync(explainFile, text);
      say(`\nquery plans: ${path.relative(projectRoot, explainFile)}`);
    }

    await app.stop();
    app = undefined;

    let drained: DrainResult | undefined;
    if (drainCount > 0 && wanted('drain')) {
      say(`\noutbox drain: ${drainCount} queued rows (plus those the POST run left) -> npm run worker -> local fake providers`);
      drained = await drain(bench, appEnv);
      say(`  ${drained.messages} messages in ${drained.seconds} s: ${drained.rate_per_s} msgs/s`);
    }
    const after = loadAverage();

    // ---- the report ----
    const base10k = baseline();
    say(
      `\n${onPg ? 'PostgreSQL' : 'SQLite'} ${databaseVersion}, ${tickets.toLocaleString('en-US')} tickets, Node ${process.version}, ${os.cpus().length} CPUs`,
    );
    say(
      table(
        [
          'scenario',
          'req/s',
          'p50 ms',
          'p99 ms',
          'errors',
          'bytes (wire)',
          'bytes (raw)',
          'app CPU/req',
          'PG CPU/req',
          'other cores',
          'goal',
          '',
        ],
        [
          ...loadResults.map((r) => [
            r.name,
            r.rps,
            r.p50_ms,
            r.p99_ms,
            r.errors + r.non2xx,
            `${kb(r.bytes_compressed)}${r.encoding && r.encoding !== 'identity' ? ` ${r.encoding}` : ''}`,
            kb(r.bytes_uncompressed),
            r.cpu ? `${r.cpu.app_ms_per_request} ms` : '-',
            r.cpu?.postgres_ms_per_request !== undefined ? `${r.cpu.postgres_ms_per_request} ms` : '-',
            r.cpu ? r.cpu.cores.other : '-',
            r.goal
              ? [r.goal.rps && `>= ${r.goal.rps} req/s`, r.goal.p99 && `p99 <= ${r.goal.p99} ms`].filter(Boolean).join(', ')
              : '',
            mark(r.goal_met),
          ]),
          ...(drained
            ? [
                goalRow(
                  'outbox drain (msgs/s)',
                  drained.rate_per_s,
                  `>= ${GOALS.drainRate} msgs/s`,
                  drained.goal_met,
                  drained.messages - drained.sent,
                ),
              ]
            : []),
          goalRow(
            'RSS after the run (MB)',
            memory?.rss_mb ?? '-',
            `<= ${GOALS.rssMb} MB`,
            memory ? memory.rss_mb <= GOALS.rssMb : undefined,
          ),
          goalRow('start-up to healthy (ms)', startupMs, `<= ${GOALS.startupMs} ms`, startupMs <= GOALS.startupMs),
        ],
      ),
    );
    const byName = new Map(base10k?.scale.map((r) => [r.name, r]));
    say(`\nscale (one request at a time)${base10k ? `, against ${base10k.file}` : ''}`);
    say(
      table(
        [
          'query',
          'rows',
          'p50 ms',
          'p90 ms',
          'p99 ms',
          ...(base10k ? ['p50 at 10k', 'ratio', `goal <= ${GOALS.scaleRatio}x`] : []),
        ],
        scaleResults.map((r) => {
          const ref = byName.get(r.name);
          const ratio = ref ? round(r.p50_ms / ref.p50_ms, 2) : undefined;
          return [
            r.name,
            r.rows ?? '-',
            r.p50_ms,
            r.p90_ms,
            r.p99_ms,
            ...(base10k ? [ref?.p50_ms ?? '-', ratio ?? '-', ratio === undefined ? '' : mark(ratio <= GOALS.scaleRatio)] : []),
          ];
        }),
      ),
    );
    say(`load average before ${before.join(' ')}, after ${after.join(' ')}`);

    const result = {
      date: new Date().toISOString(),
      database: onPg ? 'postgres' : 'sqlite',
      database_version: databaseVersion,
      tickets,
      machine: machine(),
      load_average: { before, after },
      options: {
        duration_s: duration,
        warmup_s: warmup,
        repeat,
        connections,
        drain: drainCount,
        profile: args.profile,
        wait_quiet_s: waitQuietSeconds,
        scale_requests: scaleRequests,
        scale_warmup: scaleWarmup,
      },
      app: `dist/ (npm run build), NODE_ENV=production, NODE_OPTIONS=${args['node-options'] || '(none)'}, WORKER_IN_PROCESS=false, LOG_LEVEL=info`,
      goals: GOALS,
      generation,
      startup_ms: startupMs,
      ready_ms: readyMs,
      memory_after_run: memory,
      load: loadResults,
      scale: scaleResults,
      scale_baseline: base10k?.file,
      drain: drained,
      explain: explainFile && path.relative(projectRoot, explainFile),
    };
    const file = path.join(resultsDir, `${resultName}.json`);
    if (!only) {
      writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
      say(`\nresults: ${path.relative(projectRoot, file)}`);
    } else {
      say('\n(--only: results not written)');
    }
    if (args.profile)
      say(
        `CPU profile: ${path.relative(projectRoot, profileDir)} (summarise with: npx tsx bench/profile-summary.ts ${path.relative(projectRoot, profileDir)})`,
      );
  } finally {
    if (app) await app.stop();
    if (args.keep) say(`kept the database: ${bench.url}`);
    else await bench.drop();
  }
}

await main();
