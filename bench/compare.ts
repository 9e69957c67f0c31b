/**
 * Compares two recorded runs (bench/results/*.json): load figures side by side, and each scale query's
 * latency (one request at a time) with the ratio the issue holds to 1.5x.
 * Usage: npx tsx bench/compare.ts <small.json> <large.json>
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface Run {
  tickets: number;
  database: string;
  load: { name: string; rps: number; p50_ms: number; p99_ms: number }[];
  scale: { name: string; rows: number | null; p50_ms: number; p90_ms: number; p99_ms: number }[];
}

const [a, b] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: npx tsx bench/compare.ts <small.json> <large.json>');
const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Run;
const small = read(a);
const large = read(b);
const n = (x: number) => x.toLocaleString('en-US');

function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows].map((r) => r.map(String));
  const widths = head.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    `| ${r.map((v, c) => (c === 0 ? v.padEnd(widths[c] ?? 0) : v.padStart(widths[c] ?? 0))).join(' | ')} |`;
  return [
    line(cells[0] ?? []),
    `|${widths.map((w, c) => (c === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...cells.slice(1).map(line),
  ].join('\n');
}

process.stdout.write(
  `${path.basename(a)} (${n(small.tickets)}) vs ${path.basename(b)} (${n(large.tickets)}), ${large.database}\n\n`,
);
const byName = new Map(small.scale.map((r) => [r.name, r]));
process.stdout.write(
  `${table(
    [
      'query (one at a time)',
      `p50 ms at ${n(small.tickets)}`,
      `p50 ms at ${n(large.tickets)}`,
      'ratio',
      `p99 ms at ${n(large.tickets)}`,
      '<= 1.5x',
    ],
    large.scale.map((r) => {
      const ref = byName.get(r.name);
      const ratio = ref ? Math.round((r.p50_ms / ref.p50_ms) * 100) / 100 : undefined;
      return [
        r.name,
        ref?.p50_ms ?? '-',
        r.p50_ms,
        ratio ?? '-',
        r.p99_ms,
        ratio === undefined ? '' : ratio <= 1.5 ? 'yes' : 'NO',
      ];
    }),
  )}\n\n`,
);
const loadByName = new Map(small.load.map((r) => [r.name, r]));
process.stdout.write(
  `${table(
    [
      'load (50 connections)',
      `req/s at ${n(small.tickets)}`,
      `req/s at ${n(large.tickets)}`,
      `p99 ms at ${n(small.tickets)}`,
      `p99 ms at ${n(large.tickets)}`,
    ],
    large.load.map((r) => [r.name, loadByName.get(r.name)?.rps ?? '-', r.rps, loadByName.get(r.name)?.p99_ms ?? '-', r.p99_ms]),
  )}\n`,
);
