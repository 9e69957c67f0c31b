import type { Db } from '../../src/db/index.ts';

type Row = Record<string, unknown>;

/** `SELECT column, count(*) FROM table GROUP BY column`, as a map (keys as strings). */
export async function countBy(db: Db, table: string, column: string): Promise<Map<string, number>> {
  const rows = (await db(table).select(column).count({ n: '*' }).groupBy(column)) as Row[];
  return new Map(rows.map((r) => [String(r[column]), Number(r.n)]));
}

/** Where the kept counters disagree with the rows they count: ticket_counts vs GROUP BY status. */
export async function ticketCountMismatches(db: Db): Promise<string[]> {
  const kept = (await db('ticket_counts').select('status', 'n')) as Row[];
  const actual = await countBy(db, 'tickets', 'status');
  const problems = kept
    .filter((r) => Number(r.n) !== (actual.get(String(r.status)) ?? 0))
    .map((r) => `ticket_counts.${r.status} = ${r.n}, tickets say ${actual.get(String(r.status)) ?? 0}`);
  const known = new Set(kept.map((r) => String(r.status)));
  for (const [status, n] of actual)
    if (!known.has(status)) problems.push(`${n} tickets are ${status}, which ticket_counts lacks`);
  return problems;
}

/** Where stock on hand differs from the sum of the ledger, per SKU (either side missing counts too). */
export async function stockMismatches(db: Db): Promise<string[]> {
  const stock = (await db('inventory_stock').select('sku_key', 'on_hand')) as Row[];
  const sums = (await db('inventory_movements').select('sku_key').sum({ total: 'quantity_delta' }).groupBy('sku_key')) as Row[];
  const ledger = new Map(sums.map((r) => [String(r.sku_key), Number(r.total)]));
  const problems = stock
    .filter((r) => Number(r.on_hand) !== (ledger.get(String(r.sku_key)) ?? 0))
    .map((r) => `${r.sku_key}: on hand ${r.on_hand}, ledger ${ledger.get(String(r.sku_key)) ?? 0}`);
  const known = new Set(stock.map((r) => String(r.sku_key)));
  for (const key of ledger.keys()) if (!known.has(key)) problems.push(`${key}: in the ledger, not in stock`);
  return problems;
}
