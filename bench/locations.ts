/**
 * `npm run bench:locations -- [ledger|approvals|both] [--movements 10000000] [--baseline <dir>] [--pg-url …]`
 *
 * Stock where it really is (DESIGN.md §12), two measurements:
 *   - ledger (PostgreSQL, --pg-url): 5,000 SKUs x 50 locations (250,000 location_stock rows); the on-hand of one location and
 *     the totals across locations, read through the inventory service (what GET /api/inventory/on-hand
 *     runs), median of 30 reads each, with 100,000 movements in the ledger and again after the ledger
 *     grew to --movements (a single INSERT … SELECT generate_series). Reads must not depend on the
 *     ledger's size: the goal is within 1.5x.
 *   - approvals: POST /api/tickets then PATCH …{status: approved} (which now reserves at the source, in
 *     the decision's transaction) at 8 concurrent clients for 15 s each, on the app as the tests start it
 *     (test/support/app.ts: SQLite, or PostgreSQL when TEST_DATABASE_URL is set). With --baseline <dir>, the same run on another checkout of the code (the
 *     commit before locations, exported with `git archive`), interleaved, so both run on this host under
 *     the same conditions; the goal is at most 15 % lower throughput.
 * Results go to bench/results/<date>-locations.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createDb, type Db, migrateLatest } from '../src/db/index.ts';
import { onHandAt, onHandList } from '../src/features/inventory/service.ts';
import { projectRoot } from '../src/paths.ts';
import { scratchDatabase } from '../test/support/scratch-db.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    movements: { type: 'string', default: '10000000' },
    baseline: { type: 'string' },
    seconds: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '2' },
    'pg-url': { type: 'string', default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432' },
  },
});
const what = positionals[0] ?? 'both';
const say = (line: string) => process.stdout.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function timeReads(db: Db, locationId: number) {
  const one: number[] = [];
  const all: number[] = [];
  for (let i = 0; i < 35; i++) {
    let t = performance.now();
    const rows = await onHandAt(db, locationId, false);
    if (i >= 5) one.push(performance.now() - t);
    t = performance.now();
    const totals = await onHandList(db, false);
    if (i >= 5) all.push(performance.now() - t);
    if (rows.length !== 5000 || totals.length !== 5000)
      throw new Error(`expected 5,000 rows, got ${rows.length} / ${totals.length}`);
  }
  return { location_ms: +median(one).toFixed(2), totals_ms: +median(all).toFixed(2) };
}

async function ledger() {
  // A database of its own on --pg-url's server, dropped after.
  const scratch = await scratchDatabase(`${args['pg-url']}/postgres`);
  const db = createDb({ client: 'pg', url: scratch.url }, { poolMax: 4 });
  try {
    await migrateLatest(db);
    const now = new Date().toISOString();
    say('ledger: 50 locations, 5,000 SKUs, 250,000 location_stock rows');
    await db.raw(
      `INSERT INTO locations (name, kind, active, is_default, created_at, updated_at)
       SELECT 'Van ' || g, CASE WHEN g % 10 = 0 THEN 'site' ELSE 'van' END, true, false, ?, ? FROM generate_series(1, 49) g`,
      [now, now],
    );
    await db.raw(
      `INSERT INTO inventory_stock (sku_key, cable_type, cable_length, on_hand, reserved, created_at, updated_at)
       SELECT 'sku ' || s || '|1m', 'SKU ' || s, '1m', 50 * 100, 0, ?, ? FROM generate_series(1, 5000) s`,
      [now, now],
    );
    await db.raw(
      `INSERT INTO location_stock (location_id, sku_key, cable_type, cable_length, on_hand, reserved, created_at, updated_at)
       SELECT l.id, 'sku ' || s || '|1m', 'SKU ' || s, '1m', 100, 0, ?, ? FROM locations l CROSS JOIN generate_series(1, 5000) s`,
      [now, now],
    );
    // Movements in +1/-1 pairs on one (location, SKU): the ledger grows, every sum stays what the stock tables say.
    const addMovements = async (from: number, to: number) => {
      const started = performance.now();
      await db.raw(
        `INSERT INTO inventory_movements (movement_type, source_type, source_id, source_line, location_id, sku_key, cable_type, cable_length, quantity_delta, notes, created_at)
         SELECT 'adjustment', 'manual_adjustment', g, 0, 1 + (g / 2) % 50, 'sku ' || (1 + (g / 100) % 5000) || '|1m', 'SKU ' || (1 + (g / 100) % 5000), '1m',
                CASE WHEN g % 2 = 0 THEN 1 ELSE -1 END, NULL, ?
         FROM generate_series(?::int, ?::int) g`,
        [now, from, to],
      );
      await db.raw('ANALYZE');
      return Math.round((performance.now() - started) / 1000);
    };
    await addMovements(1, 100_000);
    const small = await timeReads(db, 7);
    say(`  100,000 movements: one location ${small.location_ms} ms, totals ${small.totals_ms} ms`);
    const target = Number(args.movements);
    say(`  growing the ledger to ${target.toLocaleString('en')} movements …`);
    const seconds = await addMovements(100_001, target);
    const big = await timeReads(db, 7);
    say(
      `  ${target.toLocaleString('en')} movements (${seconds} s to insert): one location ${big.location_ms} ms, totals ${big.totals_ms} ms`,
    );
    const ratio = {
      location: +(big.location_ms / small.location_ms).toFixed(2),
      totals: +(big.totals_ms / small.totals_ms).toFixed(2),
    };
    say(`  ratio: one location ${ratio.location}x, totals ${ratio.totals}x (goal: within 1.5x)`);
    return {
      skus: 5000,
      locations: 50,
      small: { movements: 100_000, ...small },
      big: { movements: target, insert_s: seconds, ...big },
      ratio,
    };
  } finally {
    await db.destroy();
    await scratch.drop();
  }
}

interface AppModule {
  startApp: (env?: Record<string, string>) => Promise<{ url: string; db: Db; close: () => Promise<void> }>;
}
interface FactoriesModule {
  createUser: (db: Db, spec: { username: string; role?: string }) => Promise<{ id: number }>;
  tokenClient: (
    url: string,
    username: string,
  ) => Promise<{ send: (m: string, p: string, b?: unknown) => Promise<{ status: number; json: { ticket: { id: number } } }> }>;
}

/** POST a request and approve it, `clients` at a time for `seconds`: requests approved per second. */
async function approvalRate(root: string, seconds: number, clients = 8) {
  const { startApp } = (await import(path.join(root, 'test/support/app.ts'))) as AppModule;
  const { createUser, tokenClient } = (await import(path.join(root, 'test/support/factories.ts'))) as FactoriesModule;
  const app = await startApp();
  try {
    await createUser(app.db, { username: 'bench_boss', role: 'admin' });
    const tech = await createUser(app.db, { username: 'bench_tech' });
    const boss = await tokenClient(app.url, 'bench_boss');
    const techApi = await tokenClient(app.url, 'bench_tech');
    await boss.send('POST', '/api/cable-receiving', {
      vendor: 'Bench',
      items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 1_000_000 }],
    });
    let done = 0;
    let failed = 0;
    const until = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < until) {
          const created = await boss.send('POST', '/api/tickets', {
            assigned_to_id: tech.id,
            location: 'Bench',
            items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 2 }],
          });
          const approved = await techApi.send('PATCH', `/api/tickets/${created.json.ticket.id}`, { status: 'approved' });
          if (created.status === 201 && approved.status === 200) done += 1;
          else failed += 1;
        }
      }),
    );
    return { per_second: +(done / seconds).toFixed(1), failed };
  } finally {
    await app.close();
  }
}

async function approvals() {
  const seconds = Number(args.seconds);
  const rounds = Number(args.rounds);
  const runs: { code: string; per_second: number; failed: number }[] = [];
  say(
    `approvals: POST + PATCH approved, 8 clients, ${seconds} s, ${rounds} round(s)${args.baseline ? ', interleaved with the baseline' : ''}`,
  );
  for (let r = 0; r < rounds; r++) {
    const order = args.baseline
      ? [['locations', projectRoot] as const, ['baseline', path.resolve(args.baseline)] as const]
      : [['locations', projectRoot] as const];
    for (const [code, root] of r % 2 ? [...order].reverse() : order) {
      const result = await approvalRate(root, seconds);
      runs.push({ code, ...result });
      say(`  ${code}: ${result.per_second} approved requests/s (${result.failed} failed)`);
    }
  }
  const best = (code: string) => median(runs.filter((x) => x.code === code).map((x) => x.per_second));
  const summary = { locations: best('locations'), baseline: args.baseline ? best('baseline') : undefined };
  if (summary.baseline)
    say(
      `  median: ${summary.locations} vs ${summary.baseline} before (${(((summary.locations - summary.baseline) / summary.baseline) * 100).toFixed(1)} %; goal: no more than 15 % lower)`,
    );
  return { runs, summary };
}

const results: Record<string, unknown> = {
  host: { cpus: os.cpus().length, model: os.cpus()[0]?.model },
  at: new Date().toISOString(),
};
if (what === 'ledger' || what === 'both') results.ledger = await ledger();
if (what === 'approvals' || what === 'both') results.approvals = await approvals();
const out = path.join(projectRoot, 'bench/results', `${new Date().toISOString().slice(0, 10)}-locations.json`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
say(`written to ${path.relative(projectRoot, out)}`);
process.exit(0);
