import autocannon from 'autocannon';
import { Client } from './client.ts';
import { PASSWORD, registerThroughApi } from './factories.ts';
import { scratchDatabase } from './scratch-db.ts';
import { startServerProcess } from './server-process.ts';

/**
 * The soak (issue #9 §7): the real server process (src/main.ts, notification worker in process, as
 * `npm start` runs it) under a mixed load from autocannon for `seconds`: each connection signs in,
 * lists, creates a ticket and walks it to fulfilled as the assignee, opens the dashboard page and
 * reads the stats, over and over. The server's resident memory is sampled every second from /proc.
 * Run by test/soak.test.ts (CI-sized) and by `npm run soak -- --seconds 600` (scripts/soak.ts).
 */
export interface SoakOptions {
  seconds: number;
  connections?: number;
  /** The test PostgreSQL server to make a scratch database on; SQLite when absent. */
  postgresUrl?: string;
  log?: (line: string) => void;
  /** NODE_OPTIONS for the server process (a heap limit, as a container would set). */
  nodeOptions?: string;
}

export interface SoakReport {
  seconds: number;
  connections: number;
  database: 'sqlite' | 'postgres';
  requests: number;
  requestsPerSecond: number;
  latencyP50: number;
  latencyP99: number;
  statuses: Record<string, number>;
  fiveHundreds: number;
  errors: number;
  timeouts: number;
  ticketsCreated: number;
  /** RSS samples (bytes), one per second. */
  rss: number[];
  /** Median RSS over the samples around the middle, and over the last tenth of the run. */
  rssMiddle: number;
  rssEnd: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const connections = options.connections ?? 8;
  const database = await scratchDatabase(options.postgresUrl);
  const server = await startServerProcess({
    ...(options.nodeOptions ? { NODE_OPTIONS: options.nodeOptions } : {}),
    DATABASE_URL: database.url,
    WORKER_IN_PROCESS: 'true',
    // A load test, not an abuse test: the sign-in limits (10 a minute per IP) would turn it into 429s.
    RATE_LIMIT_AUTH_PER_MINUTE: '100000000',
  });
  try {
    const register = (username: string, phone?: string) => registerThroughApi(server.url, username, phone);
    const admin = await register('soak_admin');
    await register('soak_tech', '+12025550100');
    const stock = await register('soak_stock', '+12025550142');
    await new Client(server.url).withToken(admin.token).send('POST', '/api/cable-receiving', {
      vendor: 'Acme',
      items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 1_000_000 }],
    });
    // The dashboard page is read with a cookie session, as a browser would.
    const browser = new Client(server.url);
    const signIn = await browser.submit('/login', '/login', { username: 'soak_tech', password: PASSWORD });
    if (signIn.status !== 303) throw new Error(`page sign-in: ${signIn.status}`);
    const cookie = browser.cookieHeader();

    const json = { 'content-type': 'application/json', accept: 'application/json' };
    type Ctx = { token?: string; ticket?: number };
    const auth = (token: string | undefined) => ({ ...json, authorization: `Bearer ${token ?? 'none'}` });
    const move = (status: string) => ({
      method: 'PATCH' as const,
      setupRequest: (req: autocannon.Request, context: object) => {
        const ctx = context as Ctx;
        return { ...req, path: `/api/tickets/${ctx.ticket ?? 0}`, headers: auth(stock.token), body: JSON.stringify({ status }) };
      },
    });
    let created = 0;
    const requests: autocannon.Request[] = [
      {
        method: 'POST',
        path: '/api/login',
        headers: json,
        body: JSON.stringify({ username: 'soak_tech', password: PASSWORD }),
        onResponse: (status, body, context) => {
          if (status === 200) (context as Ctx).token = JSON.parse(body).access_token;
        },
      },
      {
        method: 'GET',
        setupRequest: (req, context) => ({ ...req, path: '/api/tickets?limit=20', headers: auth((context as Ctx).token) }),
      },
      {
        method: 'POST',
        path: '/api/tickets',
        setupRequest: (req, context) => ({
          ...req,
          headers: auth((context as Ctx).token),
          body: JSON.stringify({
            assigned_to_id: stock.id,
            location: 'Soak site',
            items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 1 }],
          }),
        }),
        onResponse: (status, body, context) => {
          if (status === 201) {
            created += 1;
            (context as Ctx).ticket = JSON.parse(body).ticket.id;
          }
        },
      },
      move('approved'),
      move('in_progress'),
      move('fulfilled'),
      { method: 'GET', path: '/', headers: { cookie } },
      {
        method: 'GET',
        setupRequest: (req, context) => ({ ...req, path: '/api/dashboard/stats', headers: auth((context as Ctx).token) }),
      },
      {
        method: 'GET',
        setupRequest: (req, context) => ({
          ...req,
          path: `/api/tickets/${(context as Ctx).ticket ?? 1}`,
          headers: auth((context as Ctx).token),
        }),
      },
    ];

    const rss: number[] = [];
    const sampler = setInterval(() => {
      const bytes = server.rss();
      if (bytes) rss.push(bytes);
    }, 1000);
    const statuses: Record<string, number> = {};
    const progress = setInterval(
      () => log(`soak: ${Object.values(statuses).reduce((a, b) => a + b, 0)} requests so far`),
      30_000,
    );
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(
        { url: server.url, connections, duration: options.seconds, timeout: 30, requests },
        (err, res) => (err ? reject(err) : resolve(res)),
      );
      instance.on('response', (_client: unknown, statusCode: number) => {
        statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      });
    });
    clearInterval(sampler);
    clearInterval(progress);

    const tenth = Math.max(2, Math.floor(rss.length / 10));
    const mid = Math.floor(rss.length / 2);
    const report: SoakReport = {
      seconds: options.seconds,
      connections,
      database: options.postgresUrl ? 'postgres' : 'sqlite',
      requests: result.requests.total,
      requestsPerSecond: Math.round(result.requests.average),
      latencyP50: result.latency.p50,
      latencyP99: result.latency.p99,
      statuses,
      fiveHundreds: Object.entries(statuses)
        .filter(([code]) => Number(code) >= 500)
        .reduce((n, [, count]) => n + count, 0),
      errors: result.errors,
      timeouts: result.timeouts,
      ticketsCreated: created,
      rss,
      rssMiddle: median(rss.slice(Math.max(0, mid - Math.floor(tenth / 2)), mid + Math.ceil(tenth / 2))),
      rssEnd: median(rss.slice(-tenth)),
    };
    return report;
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    await database.drop();
  }
}

/** One line for a person: throughput, latency, statuses, memory. */
export function describeSoak(r: SoakReport): string {
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
  return (
    `${r.database}, ${r.seconds} s, ${r.connections} connections: ${r.requests} requests (${r.requestsPerSecond}/s), ` +
    `p50 ${r.latencyP50} ms, p99 ${r.latencyP99} ms, statuses ${JSON.stringify(r.statuses)}, ${r.ticketsCreated} tickets created; ` +
    `RSS middle ${mb(r.rssMiddle)}, end ${mb(r.rssEnd)} (min ${mb(Math.min(...r.rss))}, max ${mb(Math.max(...r.rss))})`
  );
}

/** The allowance for RSS growth from the middle to the end of a run: 10% plus 16 MB of GC noise. */
export const rssAllowance = (middle: number) => middle * 0.1 + 16 * 1024 * 1024;
