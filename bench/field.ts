/**
 * `npm run bench:field -- [--runs 5] [--label x]`: the field paths on an emulated slow 3G link.
 *
 * At a phone viewport in Debian's Chromium, through a slow link (slowLink below: 400 ms round trip,
 * 400 kbit/s down and up) that slows everything the browser fetches, the service worker's own fetches
 * included (Chrome's CDP network emulation, used before, leaves those at full speed, so a form post
 * the worker makes looked free), two paths:
 *   - "sign in" (issue 21): open sign-in, sign in, open the request form, file a request (one item);
 *   - "signed in": a technician still signed in (sessions last days) opens the app (/), opens the
 *     form, files a request.
 * Each run is a fresh browser context:
 *   - cold: nothing cached, no service worker (a first visit);
 *   - warm: the same context again (service worker installed, its caches and the HTTP cache as the
 *     first run left them; signed out first for the sign-in path), the way a phone comes back;
 *   - warm, worker only: as warm, with the HTTP cache emptied first, so only the worker's caches help.
 * Reported per step (the time from the action to the next page's load event) and in total, with the
 * bytes the server sent (a counting relay in front of it sees the worker's fetches too) and where the
 * page's responses came from (the network, through the worker or not; the worker's caches; the HTTP cache). The median run of each kind
 * goes to bench/results/<date>-field[-label].json. The app runs as `npm start` runs it, in its own
 * process on a temporary SQLite database (the slow link, not the server, sets these times).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { projectRoot } from '../src/paths.ts';
import { CHROMIUM_PATH, PHONE } from '../test/support/browser.ts';
import { PASSWORD, registerThroughApi, signedInClient } from '../test/support/factories.ts';
import { startServerProcess } from '../test/support/server-process.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    label: { type: 'string' },
    link: { type: 'string', default: 'relay' },
    trace: { type: 'boolean', default: false },
  },
});
const runs = Math.max(1, Number(args.runs));
const SLOW_3G = { offline: false, latency: 400, downloadThroughput: 50_000, uploadThroughput: 50_000 };
/**
 * `--link relay` (the default): the pacing relay slows everything. `--link cdp`: Chrome's emulation on
 * the page instead (the relay only counts), as this bench measured before: the worker's own fetches
 * (its form posts among them) then go at full speed, so its figures flatter the worker.
 */
const viaCdp = args.link === 'cdp';

interface Measure {
  steps: Record<string, number>;
  totalMs: number;
  /** Bytes the server sent and received (a counting relay in front of it: the worker's fetches too). */
  bytesDown: number;
  bytesUp: number;
  /** Responses by where they came from: the network, the worker's caches, the HTTP cache. */
  fromNetwork: number;
  fromWorkerCache: number;
  fromHttpCache: number;
}

interface CdpResponse {
  fromServiceWorker?: boolean;
  serviceWorkerResponseSource?: string;
  fromDiskCache?: boolean;
  fromPrefetchCache?: boolean;
}

/** Where the page's responses came from (CDP). */
async function watch(context: BrowserContext, page: Page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  if (viaCdp) await cdp.send('Network.emulateNetworkConditions', SLOW_3G);
  const tally = { fromNetwork: 0, fromWorkerCache: 0, fromHttpCache: 0 };
  const source = new Map<string, 'network' | 'worker' | 'http'>();
  cdp.on('Network.requestServedFromCache', (e: { requestId: string }) => source.set(e.requestId, 'http'));
  cdp.on('Network.responseReceived', (e: { requestId: string; response: CdpResponse }) => {
    const r = e.response;
    if (r.fromServiceWorker && r.serviceWorkerResponseSource === 'cache-storage') source.set(e.requestId, 'worker');
    else if (r.fromDiskCache || r.fromPrefetchCache || r.serviceWorkerResponseSource === 'http-cache')
      source.set(e.requestId, 'http');
    else if (!source.has(e.requestId)) source.set(e.requestId, 'network');
  });
  cdp.on('Network.loadingFinished', (e: { requestId: string }) => {
    const from = source.get(e.requestId) ?? 'http';
    if (from === 'network') tally.fromNetwork++;
    else if (from === 'worker') tally.fromWorkerCache++;
    else tally.fromHttpCache++;
  });
  return { cdp, tally };
}

async function step(page: Page, steps: Record<string, number>, name: string, action: () => Promise<unknown>) {
  const start = performance.now();
  if (args.trace) console.log(`-- ${name} at ${Math.round(start - traceStart)}`);
  await action();
  steps[name] = Math.round(performance.now() - start);
  // With --trace, the new page's navigation timing (ms from its start): where the browser's time went.
  if (args.trace) console.log(`   page: ${await page.evaluate(NAVIGATION_TIMING)}`);
}

const NAVIGATION_TIMING = `(() => {
  const n = performance.getEntriesByType('navigation')[0].toJSON();
  return ['workerStart', 'fetchStart', 'responseStart', 'responseEnd', 'domInteractive', 'domContentLoadedEventEnd', 'loadEventEnd']
    .map((k) => k + ' ' + Math.round(n[k])).join(', ');
})()`;

type PathName = 'sign in' | 'signed in';

/** The path, timed step by step. */
async function filePath(page: Page, base: string, n: number, path: PathName): Promise<Record<string, number>> {
  const steps: Record<string, number> = {};
  if (path === 'sign in') {
    await step(page, steps, 'open sign-in', () => page.goto(`${base}/login`, { waitUntil: 'load' }));
    await page.getByLabel('Username or email').fill('bench_tech');
    await page.getByLabel('Password').fill(PASSWORD);
    await step(page, steps, 'sign in', async () => {
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${base}/`, { waitUntil: 'load' });
    });
  } else {
    await step(page, steps, 'open the app', () => page.goto(`${base}/`, { waitUntil: 'load' }));
  }
  await step(page, steps, 'open the form', () => page.goto(`${base}/tickets/new`, { waitUntil: 'load' }));
  await page.getByLabel('Assign to').selectOption({ label: 'bench_approver' });
  await page.getByLabel('Location').fill(`Bench hut ${n}`);
  await page.locator('#i0-type').fill('Cat6');
  await page.locator('#i0-len').fill('100ft');
  await page.locator('#i0-qty').fill('2');
  await step(page, steps, 'file a request', async () => {
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.waitForURL(/\/tickets\/\d+$/, { waitUntil: 'load' });
  });
  return steps;
}

async function measured(
  context: BrowserContext,
  base: string,
  n: number,
  path: PathName,
  emptyHttpCache: boolean,
): Promise<Measure> {
  const page = await context.newPage();
  const { cdp, tally } = await watch(context, page);
  if (emptyHttpCache) await cdp.send('Network.clearBrowserCache');
  const bytes = { ...relay.bytes };
  const steps = await filePath(page, base, n, path);
  const bytesDown = relay.bytes.down - bytes.down;
  const bytesUp = relay.bytes.up - bytes.up;
  await page.evaluate('navigator.serviceWorker.ready');
  if (path === 'sign in') {
    // Out again, so the next run starts at sign-in.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
  }
  await page.close();
  return { steps, totalMs: Object.values(steps).reduce((a, b) => a + b, 0), bytesDown, bytesUp, ...tally };
}

/**
 * The slow link: a TCP relay in front of the app that delays and paces every byte, whoever sends it
 * (the page, or the service worker's own fetches, which Chrome's emulation on the page does not
 * slow), and counts the bytes each way. Each direction is one lane shared by all connections, like a
 * phone's radio link: a chunk leaves when the lane is free, takes its size / throughput on it, and
 * arrives half the round trip later (so a request and its answer cost one round trip, as with
 * Chrome's emulation). Connecting to the relay itself costs nothing, as in Chrome's emulation.
 */
async function slowLink(target: string) {
  const port = Number(new URL(target).port);
  const bytes = { down: 0, up: 0 };
  const lanes = { down: 0, up: 0 };
  let connections = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    const id = ++connections;
    const pipe = (from: net.Socket, to: net.Socket, lane: 'down' | 'up') => {
      let last = 0;
      from.on('data', (chunk) => {
        bytes[lane] += chunk.length;
        const now = performance.now();
        lanes[lane] = Math.max(now, lanes[lane]) + (chunk.length / SLOW_3G.downloadThroughput) * 1000;
        last = viaCdp ? now : lanes[lane] + SLOW_3G.latency / 2;
        if (args.trace) trace(id, lane, chunk, now, last);
        setTimeout(() => to.destroyed || to.write(chunk), last - now);
      });
      from.on('end', () => setTimeout(() => to.end(), Math.max(0, last - performance.now())));
      from.on('error', () => to.destroy());
    };
    pipe(client, upstream, 'up');
    pipe(upstream, client, 'down');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { bytes, port: (server.address() as AddressInfo).port, close: () => server.close() };
}

/**
 * `--trace`: each request line as it enters the link and each response's status line, with when it
 * arrives at the far end (ms since the start), by connection: where a path's time goes.
 */
const traceStart = performance.now();
function trace(id: number, lane: 'down' | 'up', chunk: Buffer, now: number, arrives: number) {
  const head = chunk.subarray(0, 120).toString('latin1');
  const line = /^(GET|POST|HEAD|HTTP\/1\.1) [^\r\n]*/.exec(head)?.[0];
  const at = (t: number) => Math.round(t - traceStart);
  console.log(`  [${at(now)} -> ${at(arrives)}] #${id} ${lane === 'up' ? '>' : '<'} ${line ?? '...'} (${chunk.length} B)`);
}

const median = (list: Measure[]) => [...list].sort((a, b) => a.totalMs - b.totalMs)[Math.floor(list.length / 2)] as Measure;

// The app in its own process, as `npm start` runs it (production: templates compiled once), so the
// relay's pacing timers here never wait behind the app's work.
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ct-bench-field-'));
const app = await startServerProcess({
  DATABASE_URL: `sqlite://${path.join(dataDir, 'field.sqlite')}`,
  RATE_LIMIT_AUTH_PER_MINUTE: '10000',
  ...(args.trace ? { LOG_LEVEL: 'info' } : {}),
});
const relay = await slowLink(app.url);
const base = `http://localhost:${relay.port}`;
await registerThroughApi(app.url, 'bench_tech');
await registerThroughApi(app.url, 'bench_approver');
const browser = await chromium.launch({
  executablePath: CHROMIUM_PATH,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic'],
});
type Kind = 'cold' | 'warm' | 'warmWorkerOnly';
const KINDS: Kind[] = ['cold', 'warm', 'warmWorkerOnly'];
const results: Record<PathName, Record<Kind, Measure[]>> = {
  'sign in': { cold: [], warm: [], warmWorkerOnly: [] },
  'signed in': { cold: [], warm: [], warmWorkerOnly: [] },
};
let n = 0;
try {
  for (let run = 0; run < runs; run++) {
    for (const path of ['sign in', 'signed in'] as const) {
      const context = await browser.newContext({ viewport: PHONE, hasTouch: true });
      // Signed in already: the session cookie of a sign-in made beside the browser, nothing else.
      if (path === 'signed in') {
        const cookie = (await signedInClient(app.url, 'bench_tech')).cookies;
        await context.addCookies([...cookie].map(([name, value]) => ({ name, value, url: base })));
      }
      for (const kind of KINDS) results[path][kind].push(await measured(context, base, n++, path, kind === 'warmWorkerOnly'));
      await context.close();
      const last = (kind: Kind) => results[path][kind].at(-1)?.totalMs;
      console.log(
        `run ${run + 1}, ${path}: cold ${last('cold')} ms, warm ${last('warm')} ms, warm (worker only) ${last('warmWorkerOnly')} ms`,
      );
    }
  }
} finally {
  await browser.close();
  relay.close();
  // With --trace, the app's own time for each form post (its request log).
  if (args.trace)
    for (const line of app
      .output()
      .split('\n')
      .filter((l) => l.includes('"method":"POST"'))) {
      const { path: at, status, ms } = JSON.parse(line);
      console.log(`app: POST ${at} ${status} in ${ms} ms`);
    }
  app.child.kill('SIGTERM');
  await app.exited;
  rmSync(dataDir, { recursive: true, force: true });
}

const ratio = (a: Measure, b: Measure) => Math.round((a.totalMs / b.totalMs) * 100) / 100;
const paths = Object.fromEntries(
  (['sign in', 'signed in'] as const).map((path) => {
    const [cold, warm, warmWorkerOnly] = KINDS.map((kind) => median(results[path][kind])) as [Measure, Measure, Measure];
    return [
      path,
      {
        cold,
        warm,
        warmWorkerOnly,
        speedup: ratio(cold, warm),
        speedupWorkerOnly: ratio(cold, warmWorkerOnly),
        all: Object.fromEntries(KINDS.map((kind) => [kind, results[path][kind].map((m) => m.totalMs)])),
      },
    ];
  }),
);
const summary = {
  date: new Date().toISOString(),
  host: `${os.hostname()} (${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores)`,
  // Other work on the machine at the end (1, 5, 15 min): the times are the emulated link's, mostly.
  loadAverage: os.loadavg().map((l) => Math.round(l * 10) / 10),
  chromium: CHROMIUM_PATH,
  link: {
    how: viaCdp
      ? "Chrome's CDP emulation on the page (the worker's own fetches not slowed)"
      : 'a pacing TCP relay in front of the app (page and service worker alike)',
    latencyMs: SLOW_3G.latency,
    downKbps: (SLOW_3G.downloadThroughput * 8) / 1000,
    upKbps: (SLOW_3G.uploadThroughput * 8) / 1000,
  },
  runs,
  paths,
};
for (const [path, result] of Object.entries(paths)) {
  console.log(`\n${path}: the median run of each kind (ms; KB from the server; the page's responses by source)`);
  console.table(
    Object.fromEntries(
      KINDS.map((k) => [
        k,
        {
          ...result[k].steps,
          total: result[k].totalMs,
          'KB down': Math.round(result[k].bytesDown / 102.4) / 10,
          'net / worker / HTTP cache': `${result[k].fromNetwork} / ${result[k].fromWorkerCache} / ${result[k].fromHttpCache}`,
        },
      ]),
    ),
  );
  console.log(`warm is ${result.speedup}x faster than cold (worker only: ${result.speedupWorkerOnly}x)`);
}
const dir = path.join(projectRoot, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `${summary.date.slice(0, 10)}-field${args.label ? `-${args.label.replace(/\W+/g, '-')}` : ''}.json`);
writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
console.log(`written: ${path.relative(projectRoot, file)}`);
