import type { Knex } from 'knex';
import { type Db, isPostgres } from '../../db/index.ts';

/**
 * All the SQL of the reports. Ticket figures read report_ticket_timings (one row per request, kept by
 * a trigger on ticket_events); inventory figures read report_daily_consumption (kept by a trigger on
 * the ledger) and inventory_stock. Times are UTC on both databases: weeks start on Monday 00:00 UTC,
 * months on the 1st.
 */

/** A range of filing times, [from, to), as ISO instants, and who/what is looked at. */
export interface TicketScope {
  from: string;
  to: string;
  /** Only this person's requests (someone who is not an admin sees their own). */
  requesterId?: number;
  approverId?: number;
  /** Lower-cased and trimmed: requests with an item of this cable type. */
  typeKey?: string;
}

const pg = (db: Db) => isPostgres(db);

/**
 * The Monday (UTC) of a filing time: YYYY-MM-DD on SQLite; on PostgreSQL a timestamp to group by,
 * formatted by weekText once per group (formatting every row cost more than the grouping).
 */
const weekOf = (db: Db, column: string) =>
  pg(db) ? `date_trunc('week', ${column} at time zone 'UTC')` : `date(${column}, 'weekday 0', '-6 days')`;
const weekText = (column: string) => `to_char(${column}, 'YYYY-MM-DD')`;

/**
 * PostgreSQL: a report's statement with room to sort in memory (a half-year is ~150,000 rows at a
 * million requests: over the default 4 MB, sorts spill to disk).
 */
async function roomy<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  return db.transaction(async (trx) => {
    await trx.raw("SET LOCAL work_mem = '64MB'");
    return work(trx);
  });
}

/** The requests of a scope (not the deleted ones). */
function timings(db: Db, s: TicketScope): Knex.QueryBuilder {
  const q = db('report_ticket_timings as r')
    .where('r.requested_at', '>=', s.from)
    .where('r.requested_at', '<', s.to)
    .whereNot('r.status', 'deleted');
  if (s.requesterId !== undefined) q.where('r.requester_id', s.requesterId);
  if (s.approverId !== undefined) q.where('r.decided_by_id', s.approverId);
  // type_keys holds the request's cable types, each between two unit separators (char 31): a test on
  // the row the range reads, no lookup in the items.
  if (s.typeKey !== undefined) {
    q.whereRaw(
      pg(db) ? 'strpos(r.type_keys, chr(31) || ? || chr(31)) > 0' : 'instr(r.type_keys, char(31) || ? || char(31)) > 0',
      [s.typeKey],
    );
  }
  return q;
}

/** One measured request: its week, approver, hours and follow-ups (SQLite: the service aggregates). */
export interface DurationRow {
  week: string;
  decided_by_id: number | null;
  hours: number | null;
  reminders: number;
  escalations: number;
}

/** A group's figures as PostgreSQL aggregates them (the service does the same on SQLite). */
export interface SpreadRow {
  key: string | number | null;
  requests: number;
  count: number;
  median: number | null;
  p90: number | null;
  reminders: number;
  escalations: number;
}

type Measure = 'turnaround' | 'lead';
/** What is measured, in hours, as the row holds it: filing to first decision, or approval to fulfilment. */
const measured = (m: Measure) => (m === 'turnaround' ? 'r.decision_hours' : 'r.lead_hours');

/** SQLite: every request of the scope with its measure (null when not there yet). */
export async function durations(db: Db, s: TicketScope, m: Measure): Promise<DurationRow[]> {
  return timings(db, s).select(
    db.raw(`${weekOf(db, 'r.requested_at')} as week`),
    'r.decided_by_id',
    db.raw(`${measured(m)} as hours`),
    'r.reminders',
    'r.escalations',
  );
}

/**
 * PostgreSQL: median and p90 (percentile_cont, interpolated as the service does) by week, by approver
 * and overall, in one pass over the scope's rows (grouping sets).
 */
export async function spreads(
  db: Db,
  s: TicketScope,
  m: Measure,
): Promise<{ weeks: SpreadRow[]; approvers: SpreadRow[]; overall: SpreadRow }> {
  const inner = timings(db, s).select(
    db.raw(`${weekOf(db, 'r.requested_at')} as week`),
    'r.decided_by_id',
    db.raw(`${measured(m)} as hours`),
    'r.reminders',
    'r.escalations',
  );
  // Lead time shows no approvers: not grouped by them.
  const byApprover = m === 'turnaround';
  // Median and p90 from one sort per group: percentile_cont of an array of fractions.
  const raw: (Omit<SpreadRow, 'median' | 'p90'> & {
    week: string | null;
    decided_by_id: number | null;
    g: number;
    pct: number[] | null;
  })[] = await roomy(
    db,
    async (trx) =>
      (
        await trx.raw(
          `select ${weekText('week')} as week, ${byApprover ? 'decided_by_id, grouping(week, decided_by_id)' : 'null::int as decided_by_id, 1 + 2 * grouping(week)'} as g,
          count(*)::int as requests, count(hours)::int as count,
          percentile_cont(array[0.5, 0.9]) within group (order by hours) as pct,
          sum(reminders)::int as reminders, sum(escalations)::int as escalations
        from (?) as t group by grouping sets ((week), ${byApprover ? '(decided_by_id), ' : ''}())`,
          [inner],
        )
      ).rows,
  );
  const rows = raw.map(({ pct, ...r }) => ({ ...r, median: pct?.[0] ?? null, p90: pct?.[1] ?? null }));
  const empty: SpreadRow = { key: null, requests: 0, count: 0, median: null, p90: null, reminders: 0, escalations: 0 };
  // grouping(): 1 = week only (decided_by_id rolled up), 2 = approver only, 3 = overall.
  return {
    weeks: rows.filter((r) => r.g === 1).map((r) => ({ ...r, key: r.week })),
    approvers: rows.filter((r) => r.g === 2 && r.decided_by_id !== null).map((r) => ({ ...r, key: r.decided_by_id })),
    overall: rows.find((r) => r.g === 3) ?? empty,
  };
}

/** Requests filed per week and their status now. */
export async function requestsByWeek(db: Db, s: TicketScope): Promise<{ week: string; status: string; n: number }[]> {
  const grouped = timings(db, s)
    .select(db.raw(`${weekOf(db, 'r.requested_at')} as week`), 'r.status', db.raw('count(*) as n'))
    .groupBy('week', 'r.status');
  const rows = pg(db)
    ? await db
        .select(db.raw(`${weekText('g.week')} as week`), 'g.status', 'g.n')
        .from(grouped.as('g'))
        .orderBy('g.week')
    : await grouped.orderBy('week');
  return rows.map((r: { week: string; status: string; n: number | string }) => ({ ...r, n: Number(r.n) }));
}

// ---- inventory --------------------------------------------------------------------------------------

/**
 * Stock locations (DESIGN.md §12). report_daily_consumption is keyed by (day, location_id, sku_key),
 * location 0 standing for a movement without a location (none since locations were filled in); on
 * hand and reserved per location are in location_stock. `location` is "all" or a location id (the
 * service has checked it exists); names are the service's to add (the locations feature's service).
 */
const locationId = (location: string) => (location === 'all' ? undefined : Number(location));

/**
 * Consumption per UTC month, location and cable type, days [fromDay, toDay] included: counted SKUs in
 * pieces (unit null), bulk SKUs (bulk_skus, cut from reels) in millimetres with their unit. The two
 * are separate lines: pieces and lengths cannot be summed.
 */
export async function consumptionByMonth(
  db: Db,
  f: { fromDay: string; toDay: string; typeKey?: string; location: string },
): Promise<{ month: string; location_id: number; cable_type: string; unit: 'ft' | 'm' | null; quantity: number }[]> {
  const month = pg(db) ? "to_char(c.day, 'YYYY-MM')" : 'substr(c.day, 1, 7)';
  const q = db('report_daily_consumption as c')
    .leftJoin('bulk_skus as b', 'b.sku_key', 'c.sku_key')
    .select(
      db.raw(`${month} as month`),
      'c.location_id',
      'c.type_key',
      'b.unit',
      db.raw('min(c.cable_type) as cable_type'),
      db.raw('sum(c.quantity) as quantity'),
    )
    .where('c.day', '>=', f.fromDay)
    .where('c.day', '<=', f.toDay)
    .groupBy('month', 'c.location_id', 'c.type_key', 'b.unit')
    .orderBy([{ column: 'month' }, { column: 'c.location_id' }, { column: 'c.type_key' }])
    // Pieces before lengths on both databases (they sort NULL differently).
    .orderByRaw("coalesce(b.unit, '')");
  const at = locationId(f.location);
  if (at !== undefined) q.where('c.location_id', at);
  if (f.typeKey !== undefined) q.where('c.type_key', f.typeKey);
  const rows: {
    month: string;
    location_id: number | string;
    cable_type: string;
    unit: 'ft' | 'm' | null;
    quantity: number | string;
  }[] = await q;
  return rows.map((r) => ({
    month: r.month,
    location_id: Number(r.location_id),
    cable_type: r.cable_type,
    unit: r.unit ?? null,
    quantity: Number(r.quantity),
  }));
}

/**
 * On hand and reserved per SKU at a location (summed over locations for "all"), with the same
 * location's consumption since `sinceDay` (included).
 */
export async function coverBySku(
  db: Db,
  f: { sinceDay: string; typeKey?: string; location: string },
): Promise<
  { cable_type: string; cable_length: string; unit: 'ft' | 'm' | null; on_hand: number; reserved: number; consumed: number }[]
> {
  const at = locationId(f.location);
  const used = db('report_daily_consumption')
    .select('sku_key', db.raw('sum(quantity) as consumed'))
    .where('day', '>=', f.sinceDay)
    .groupBy('sku_key');
  const stock = db('location_stock')
    .select(
      'sku_key',
      db.raw('min(cable_type) as cable_type'),
      db.raw('min(cable_length) as cable_length'),
      db.raw('sum(on_hand) as on_hand'),
      db.raw('sum(reserved) as reserved'),
    )
    .groupBy('sku_key');
  if (at !== undefined) {
    used.where('location_id', at);
    stock.where('location_id', at);
  }
  const q = db
    .from(stock.as('s'))
    .select('s.cable_type', 's.cable_length', 'b.unit', 's.on_hand', 's.reserved', db.raw('coalesce(u.consumed, 0) as consumed'))
    .leftJoin(used.as('u'), 'u.sku_key', 's.sku_key')
    // A bulk SKU's figures are millimetres; its unit is how they are shown.
    .leftJoin('bulk_skus as b', 'b.sku_key', 's.sku_key')
    // SKUs with stock or some use: an empty SKU nobody asked for is not a report line.
    .where((w) => w.where('s.on_hand', '<>', 0).orWhere('s.reserved', '<>', 0).orWhereNotNull('u.consumed'));
  if (f.typeKey !== undefined) q.whereRaw('lower(trim(s.cable_type)) = ?', [f.typeKey]);
  const rows: {
    cable_type: string;
    cable_length: string;
    unit: 'ft' | 'm' | null;
    on_hand: number | string;
    reserved: number | string;
    consumed: number | string;
  }[] = await q;
  return rows.map((r) => ({
    cable_type: r.cable_type,
    cable_length: r.cable_length,
    unit: r.unit ?? null,
    on_hand: Number(r.on_hand),
    reserved: Number(r.reserved),
    consumed: Number(r.consumed),
  }));
}
