/**
 * `npm run bench:reports -- [--tickets 1000000] [--movements 10000000] [--runs 20] [--pg-url ...] [--keep] [--reuse db]`
 *
 * The reports (issue #25) and the tickets CSV over a big PostgreSQL database: a scratch database is
 * created, migrated and filled by bench/generate.ts (1 M tickets with their items, events and ledger),
 * then the ledger is topped up to --movements rows of consumption with INSERT ... SELECT generate_series
 * (spread over the same three years and the same SKUs), and the reports' summary tables are filled as
 * their triggers would have (generate.ts fillReportSummaries). Then, in this process, straight through
 * the reports' service (no HTTP; the SQL, the percentile work, the presenter and the SVG charts):
 *   - each report as an admin over the default range (the last 182 days), as someone else (their own
 *     requests), with a cable type, and over a year: --runs timed runs after 3 warm-ups, p50/p95/max;
 *   - all five as /reports composes them (figures and charts);
 *   - the tickets CSV of the whole list (every ticket, one line per item), streamed into a counter in a
 *     process of its own (bench/reports-csv.ts): rows per second and that process's peak RSS.
 * Goals: every report p50 < 500 ms; the CSV >= 50,000 rows/s with RSS < 200 MB.
 * Writes bench/results/<date>-postgres-reports-<tickets>.json. --keep keeps the database (its name is
 * printed); --reuse <name> measures a kept one again without generating; --label x is appended to the
 * results file's name; --skip-csv leaves the CSV out.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import knexFactory from 'knex';
import { createDb, migrateLatest } from '../src/db/index.ts';
import { chartsOf } from '../src/features/reports/charts.ts';
import { presentReport } from '../src/features/reports/presenter.ts';
import { REPORT_NAMES, type ReportName } from '../src/features/reports/schema.ts';
import { runReport, settleFilters } from '../src/features/reports/service.ts';
import type { Principal } from '../src/http/context.ts';
import { projectRoot } from '../src/paths.ts';
import { fillDailyConsumption, generateData } from './generate.ts';

const { values: args } = parseArgs({
  options: {
    tickets: { type: 'string', default: '1000000' },
    movements: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'string' },
    'skip-csv': { type: 'boolean', default: false },
    label: { type: 'string' },
    'pg-url': { type: 'string', default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432' },
  },
});
const tickets = Number(args.tickets);
const movements = Number(args.movements);
const runs = Number(args.runs);
const base = args['pg-url'].replace(/\/+$/, '');
const log = (line: string) => console.log(line);

const name = args.reuse ?? `ct_bench_reports_${Date.now().toString(36)}`;
const admin = knexFactory({ client: 'pg', connection: `${base}/postgres`, pool: { min: 0, max: 1 } });
if (!args.reuse) await admin.raw(`CREATE DATABASE ${name}`);
const db = createDb({ client: 'pg', url: `${base}/${name}` }, { poolMax: 4 });

async function generate(): Promise<Record<string, number>> {
  const t0 = performance.now();
  await migrateLatest(db);
  // One connection for the load: generate.ts sets session options on it.
  const loader = createDb({ client: 'pg', url: `${base}/${name}` }, { poolMax: 1 });
  await generateData(loader, true, tickets, log);
  await loader.destroy();
  await topUp();
  log(`generated in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return counts();
}

/** The ledger topped up to --movements rows (also on a kept database a run stopped before this). */
async function topUp() {
  const loader = createDb({ client: 'pg', url: `${base}/${name}` }, { poolMax: 1 });
  const { n } = (await loader('inventory_movements').count({ n: '*' }).first()) as { n: string };
  const extra = movements - Number(n);
  if (extra > 0) {
    log(`  topping the ledger up with ${extra} consumption rows`);
    const t1 = performance.now();
    await loader.raw('SET session_replication_role = replica');
    await loader.raw('SET synchronous_commit = off');
    const skus = (await loader('inventory_stock').select('sku_key', 'cable_type', 'cable_length').orderBy('sku_key')) as {
      sku_key: string;
      cable_type: string;
      cable_length: string;
    }[];
    const end = Math.floor(Date.now() / 1000) - 86_400;
    const span = 3 * 365 * 86_400;
    await loader.raw(`DROP TABLE IF EXISTS bench_skus`);
    await loader.raw(`CREATE TEMP TABLE bench_skus (n int PRIMARY KEY, sku_key text, cable_type text, cable_length text)`);
    await loader('bench_skus').insert(skus.map((s, n) => ({ n, ...s })));
    for (let lo = 1; lo <= extra; lo += 1_000_000) {
      const hi = Math.min(extra, lo + 999_999);
      // Spread evenly over three years, SKUs by a hash of the row number, 1-8 pieces.
      await loader.raw(`INSERT INTO inventory_movements (movement_type, source_type, source_id, source_line, actor_user_id, sku_key,
          cable_type, cable_length, quantity_delta, notes, created_at, location_id)
        SELECT 'consumption', 'ticket_fulfillment', NULL, i, 1, s.sku_key, s.cable_type, s.cable_length, -1 - (i::bigint * 7919) % 8, NULL,
          to_timestamp(${end - span} + (i::bigint * ${span}) / ${extra}), (SELECT id FROM locations WHERE is_default)
        FROM generate_series(${lo}, ${hi}) AS i JOIN bench_skus s ON s.n = (i::bigint * 2654435761) % ${skus.length}`);
      log(`    ${hi} / ${extra}`);
    }
    await loader.raw('SET session_replication_role = DEFAULT');
    await fillDailyConsumption(loader);
    log(`  ledger top-up and daily consumption: ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    await loader.raw('VACUUM (ANALYZE) inventory_movements');
    await loader.raw('VACUUM (ANALYZE) report_daily_consumption');
  }
  await loader.destroy();
}

async function counts() {
  const out: Record<string, number> = {};
  for (const table of [
    'tickets',
    'ticket_items',
    'ticket_events',
    'inventory_movements',
    'report_ticket_timings',
    'report_daily_consumption',
    'inventory_stock',
  ]) {
    const { n } = (await db(table).count({ n: '*' }).first()) as { n: string };
    out[table] = Number(n);
  }
  return out;
}

const quantile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;

async function timed(label: string, work: () => Promise<unknown>) {
  for (let n = 0; n < 3; n++) await work();
  const ms: number[] = [];
  for (let n = 0; n < runs; n++) {
    const t0 = performance.now();
    await work();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const row = {
    scenario: label,
    p50_ms: round(quantile(ms, 0.5)),
    p95_ms: round(quantile(ms, 0.95)),
    max_ms: round(ms.at(-1) as number),
  };
  log(
    `  ${label.padEnd(58)} p50 ${String(row.p50_ms).padStart(7)} ms  p95 ${String(row.p95_ms).padStart(7)} ms  ${row.p50_ms < 500 ? 'ok' : 'OVER 500 ms'}`,
  );
  return row;
}
const round = (n: number) => Math.round(n * 10) / 10;

async function reports(): Promise<unknown[]> {
  const boss: Principal = { id: 1, username: 'bench', email: 'bench@example.test', role: 'admin' };
  // Someone who files requests (not an approver): their own requests only.
  const person: Principal = { id: 400, username: 'tech400', email: 'tech400@example.test', role: 'user' };
  const now = new Date();
  const day = (offset: number) => new Date(now.getTime() - offset * 86_400_000).toISOString().slice(0, 10);
  const rows = [];
  const run = (viewer: Principal, report: ReportName, q: Record<string, unknown>) => async () => {
    const f = await settleFilters(db, viewer, q, now);
    const presented = presentReport(await runReport(db, viewer, report, f, now), f);
    return chartsOf(presented);
  };
  for (const report of REPORT_NAMES) rows.push(await timed(`${report}, admin, last 182 days`, run(boss, report, {})));
  for (const report of ['turnaround', 'lead-time', 'requests'] as const) {
    rows.push(await timed(`${report}, a person's own, last 182 days`, run(person, report, {})));
  }
  rows.push(await timed('turnaround, admin, cable type Cat6', run(boss, 'turnaround', { cable_type: 'Cat6' })));
  rows.push(await timed('turnaround, admin, one approver', run(boss, 'turnaround', { approver: 2 })));
  rows.push(await timed('turnaround, admin, a year', run(boss, 'turnaround', { from: day(365) })));
  rows.push(await timed('consumption, admin, three years', run(boss, 'consumption', { from: day(3 * 365) })));
  rows.push(
    await timed('the /reports page: all five with charts at once, admin', async () => {
      await Promise.all(REPORT_NAMES.map((report) => run(boss, report, {})()));
    }),
  );
  return rows;
}

/** The CSV in a child process (bench/reports-csv.ts): its RSS is the export's alone. */
async function ticketsCsv() {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(projectRoot, 'bench', 'reports-csv.ts'), `${base}/${name}`],
    {
      encoding: 'utf8',
      maxBuffer: 1024 * 1024,
    },
  );
  const r = JSON.parse(out.trim().split('\n').at(-1) as string) as {
    rows: number;
    seconds: number;
    bytes: number;
    rss_before: number;
    rss_peak: number;
  };
  const result = {
    rows: r.rows,
    seconds: round(r.seconds),
    rows_per_second: Math.round(r.rows / r.seconds),
    megabytes: round(r.bytes / 1e6),
    rss_before_mb: round(r.rss_before / 1e6),
    rss_peak_mb: round(r.rss_peak / 1e6),
  };
  log(
    `  tickets CSV: ${result.rows} rows in ${result.seconds} s = ${result.rows_per_second} rows/s, ${result.megabytes} MB; RSS ${result.rss_before_mb} -> peak ${result.rss_peak_mb} MB (a process of its own)`,
  );
  return result;
}

try {
  log(`database ${name}`);
  // A kept database gets the migrations written since it was generated (they fill their rows).
  if (args.reuse) {
    const t0 = performance.now();
    const applied = await migrateLatest(db);
    if (applied.length) {
      log(`  migrated: ${applied.join(', ')} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      // A fill's UPDATE leaves a dead version of each row: vacuumed, as autovacuum would in time.
      await db.raw('VACUUM (ANALYZE) report_ticket_timings');
    }
    await topUp();
  }
  const data = args.reuse ? await counts() : await generate();
  log(`rows: ${JSON.stringify(data)}`);
  log(`reports (${runs} runs each after 3 warm-ups):`);
  const reportRows = await reports();
  const csv = args['skip-csv'] ? undefined : await ticketsCsv();
  const pgVersion = ((await db.raw('show server_version')).rows[0] as { server_version: string }).server_version;
  const result = {
    date: new Date().toISOString(),
    host: {
      cpu: os.cpus()[0]?.model,
      cores: os.cpus().length,
      load_average_1_5_15: os.loadavg().map((n) => round(n)),
      memory_gb: Math.round(os.totalmem() / 1e9),
      node: process.version,
      postgres: pgVersion,
    },
    data,
    reports: reportRows,
    tickets_csv: csv,
  };
  const dir = path.join(projectRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(
    dir,
    `${result.date.slice(0, 10)}-postgres-reports-${tickets}${args.label ? `-${args.label.replace(/\W+/g, '-')}` : ''}.json`,
  );
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`written ${path.relative(projectRoot, file)}`);
} finally {
  await db.destroy();
  if (!args.keep && !args.reuse) await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  else log(`kept: --reuse ${name}`);
  await admin.destroy();
}
