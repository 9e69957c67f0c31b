/**
 * The tickets CSV of the whole list from one database, in a process of its own (bench/reports.ts starts
 * it), so that its RSS is the export's and not the benchmark's: `tsx bench/reports-csv.ts <database url>`.
 * Prints one JSON line: rows (CSV lines after the header), seconds, bytes, RSS before and at its peak.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDb } from '../src/db/index.ts';
import { TICKETS_CSV_HEADER, ticketCsvCells } from '../src/features/tickets/presenter.ts';
import { exportTicketRows } from '../src/features/tickets/service.ts';
import { csvStream } from '../src/lib/csv.ts';

const db = createDb({ client: 'pg', url: process.argv[2] as string }, { poolMax: 1 });
let lines = 0;
let bytes = 0;
const before = process.memoryUsage().rss;
let peak = before;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 20);
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
    done();
  },
});
const t0 = performance.now();
await pipeline(
  csvStream(TICKETS_CSV_HEADER, exportTicketRows(db, { viewerId: 1, filter: 'all', includeDeleted: false }), ticketCsvCells),
  sink,
);
const seconds = (performance.now() - t0) / 1000;
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);
console.log(JSON.stringify({ rows: lines - 1, seconds, bytes, rss_before: before, rss_peak: peak }));
await db.destroy();
