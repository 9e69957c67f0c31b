import { type Db, isPostgres } from '../../db/index.ts';
import type { Principal } from '../../http/context.ts';
import { badRequest, forbidden } from '../../http/errors.ts';
import { allLocations } from '../locations/service.ts';
import { peopleByIds } from '../users/service.ts';
import { canSeeAllRequests, canSeeReport } from './policy.ts';
import {
  consumptionByMonth,
  coverBySku,
  type DurationRow,
  durations,
  requestsByWeek,
  type SpreadRow,
  spreads,
  type TicketScope,
} from './queries.ts';
import { COVER_WINDOW_DAYS, DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS, type ReportName, type ReportQuery } from './schema.ts';

const DAY = 86_400_000;
const dayOf = (d: Date) => d.toISOString().slice(0, 10);
const addDays = (day: string, n: number) => dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY));

/** The inventory reports' location filter: everything, or one stock location (by id). */
export const ALL_STOCK = { id: 'all', name: 'All stock' } as const;
/** A ledger row without a location (none since locations were filled in) counts under id 0. */
const NO_LOCATION = 'No location';

/** "All stock" and then every stock location, inactive ones too (they have history), by name. */
export async function reportLocations(db: Db): Promise<{ id: string; name: string }[]> {
  const rows = await allLocations(db, true);
  return [ALL_STOCK, ...rows.map((l) => ({ id: String(l.id), name: l.name }))];
}

/** The filters as a report reads them: the range settled, the cable type normalised, the scope. */
export interface ReportFilters {
  from: string;
  to: string;
  cableType?: string;
  approver?: number;
  location: string;
  scope: 'all' | 'own';
  viewerId: number;
}

/** Defaults filled in (today in UTC at `now`), the range and the location checked: 400 with a sentence. */
export async function settleFilters(db: Db, viewer: Principal, q: ReportQuery, now: Date): Promise<ReportFilters> {
  const to = q.to ?? dayOf(now);
  const from = q.from ?? addDays(to, -(DEFAULT_RANGE_DAYS - 1));
  if (from > to) throw badRequest('The first day must not be after the last.', { from: 'must not be after "to"' });
  if ((Date.parse(to) - Date.parse(from)) / DAY + 1 > MAX_RANGE_DAYS) {
    throw badRequest(`A report covers at most ${MAX_RANGE_DAYS} days.`, {
      from: `must be at most ${MAX_RANGE_DAYS} days before "to"`,
    });
  }
  const location = q.location ?? ALL_STOCK.id;
  if (!(await reportLocations(db)).some((l) => l.id === location)) {
    throw badRequest('There is no such stock location.', { location: 'is not a known location' });
  }
  return {
    from,
    to,
    cableType: q.cable_type?.trim().toLowerCase(),
    approver: q.approver,
    location,
    scope: canSeeAllRequests(viewer) ? 'all' : 'own',
    viewerId: viewer.id,
  };
}

const ticketScope = (f: ReportFilters): TicketScope => ({
  from: `${f.from}T00:00:00.000Z`,
  to: `${addDays(f.to, 1)}T00:00:00.000Z`,
  requesterId: f.scope === 'own' ? f.viewerId : undefined,
  approverId: f.approver,
  typeKey: f.cableType,
});

/** percentile_cont: linear between the two nearest ranks (what PostgreSQL computes), of sorted values. */
export function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  const at = p * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo);
}

/** SQLite: the grouped figures PostgreSQL's spreads() gives, from the rows. */
function aggregate(rows: DurationRow[], keyOf: (r: DurationRow) => string | number | null): SpreadRow[] {
  const groups = new Map<string | number | null, DurationRow[]>();
  for (const r of rows) {
    const key = keyOf(r);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups].map(([key, group]) => {
    const hours = group.flatMap((r) => (r.hours === null ? [] : [Number(r.hours)])).sort((a, b) => a - b);
    return {
      key,
      requests: group.length,
      count: hours.length,
      median: percentile(hours, 0.5),
      p90: percentile(hours, 0.9),
      reminders: group.reduce((n, r) => n + Number(r.reminders), 0),
      escalations: group.reduce((n, r) => n + Number(r.escalations), 0),
    };
  });
}

const emptySpread = (key: string | null): SpreadRow => ({
  key,
  requests: 0,
  count: 0,
  median: null,
  p90: null,
  reminders: 0,
  escalations: 0,
});

async function measure(db: Db, f: ReportFilters, m: 'turnaround' | 'lead') {
  const scope = ticketScope(f);
  if (isPostgres(db)) return spreads(db, scope, m);
  const rows = await durations(db, scope, m);
  return {
    weeks: aggregate(rows, (r) => r.week),
    approvers: aggregate(rows, (r) => r.decided_by_id).filter((g) => g.key !== null),
    overall: aggregate(rows, () => null)[0] ?? emptySpread(null),
  };
}

/** Every Monday from the week of `from` to the week of `to`: weeks without requests still show. */
export function mondays(from: string, to: string): string[] {
  const start = new Date(`${from}T00:00:00Z`);
  start.setUTCDate(start.getUTCDate() - ((start.getUTCDay() + 6) % 7));
  const out: string[] = [];
  for (let d = start; dayOf(d) <= to; d = new Date(d.getTime() + 7 * DAY)) out.push(dayOf(d));
  return out;
}

export async function turnaroundReport(db: Db, f: ReportFilters) {
  const { weeks, approvers, overall } = await measure(db, f, 'turnaround');
  const byWeek = new Map(weeks.map((w) => [w.key, w]));
  const people = await peopleByIds(
    db,
    approvers.map((a) => Number(a.key)),
  );
  return {
    overall,
    weeks: mondays(f.from, f.to).map((week) => ({ week, ...(byWeek.get(week) ?? emptySpread(week)) })),
    approvers: approvers
      .map((a) => {
        const person = people.get(Number(a.key));
        return { ...a, approver: person ? { id: person.id, username: person.username } : null };
      })
      .sort((a, b) => (b.median ?? 0) - (a.median ?? 0)),
  };
}

export async function leadTimeReport(db: Db, f: ReportFilters) {
  const { weeks, overall } = await measure(db, f, 'lead');
  const byWeek = new Map(weeks.map((w) => [w.key, w]));
  return { overall, weeks: mondays(f.from, f.to).map((week) => ({ week, ...(byWeek.get(week) ?? emptySpread(week)) })) };
}

export async function requestsReport(db: Db, f: ReportFilters) {
  const rows = await requestsByWeek(db, ticketScope(f));
  const byWeek = new Map<string, Record<string, number>>();
  for (const r of rows) byWeek.set(r.week, { ...byWeek.get(r.week), [r.status]: r.n });
  return mondays(f.from, f.to).map((week) => {
    const byStatus = byWeek.get(week) ?? {};
    return { week, byStatus, total: Object.values(byStatus).reduce((a, b) => a + b, 0) };
  });
}

const locationNames = async (db: Db) => new Map((await reportLocations(db)).map((l) => [l.id, l.name]));

/** Every UTC month from the one of `from` to the one of `to`, as YYYY-MM (across years too). */
export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let [year, month] = from.split('-').map(Number) as [number, number];
  const last = to.slice(0, 7);
  for (;;) {
    const m = `${year}-${String(month).padStart(2, '0')}`;
    if (m > last) return out;
    out.push(m);
    month = month === 12 ? 1 : month + 1;
    if (month === 1) year += 1;
  }
}

/** An empty month's line names what was looked at: the cable type filtered on, or every type. */
export const ALL_TYPES = 'All types';

/** How a line's figures are counted: pieces ('each'), or a bulk SKU's length (millimetres) shown in ft or m. */
export type ReportUnit = 'each' | 'ft' | 'm';

/**
 * Consumption per month, location and cable type; one location's only when the filter names one.
 * Counted SKUs are pieces; bulk SKUs are the millimetres cut from their reels, a line of their own
 * with the bulk SKU's unit (pieces and lengths are never summed). A month of the range without any
 * consumption is one line of 0 (the filter's location and cable type), so the chart, the table and
 * the CSV show the gap rather than skip it.
 */
export async function consumptionReport(db: Db, f: ReportFilters) {
  const rows = await consumptionByMonth(db, { fromDay: f.from, toDay: f.to, typeKey: f.cableType, location: f.location });
  const names = await locationNames(db);
  const lines = rows.map(({ location_id, unit, ...r }) => ({
    ...r,
    unit: (unit ?? 'each') as ReportUnit,
    location: names.get(String(location_id)) ?? NO_LOCATION,
  }));
  const byMonth = new Map<string, typeof lines>();
  for (const line of lines) byMonth.set(line.month, [...(byMonth.get(line.month) ?? []), line]);
  const units = [...new Set(lines.map((l) => l.unit))];
  const empty = {
    location: names.get(f.location) ?? NO_LOCATION,
    // The type as the ledger spells it when another month has it, else as the filter has it.
    cable_type: f.cableType === undefined ? ALL_TYPES : (lines[0]?.cable_type ?? f.cableType),
    // The unit of the other lines when they have one only (a bulk type filtered on), else pieces.
    unit: (units.length === 1 ? units[0] : 'each') as ReportUnit,
    quantity: 0,
  };
  return monthsBetween(f.from, f.to).flatMap((month) => byMonth.get(month) ?? [{ month, ...empty }]);
}

/** Days of cover at the last COVER_WINDOW_DAYS' rate (up to `now`), the SKUs that run out first on top. */
export async function coverReport(db: Db, f: ReportFilters, now: Date) {
  const sinceDay = addDays(dayOf(now), -(COVER_WINDOW_DAYS - 1));
  const rows = await coverBySku(db, { sinceDay, typeKey: f.cableType, location: f.location });
  const location = (await locationNames(db)).get(f.location) ?? NO_LOCATION;
  return rows
    .map(({ unit, ...r }) => {
      // What is reserved is promised to approved requests: cover counts what is left for new ones.
      const available = r.on_hand - r.reserved;
      const perDay = r.consumed / COVER_WINDOW_DAYS;
      // Bulk figures are millimetres (the presenter shows them in the unit): the days are the same.
      return {
        location,
        ...r,
        unit: (unit ?? 'each') as ReportUnit,
        available,
        perDay,
        daysOfCover: perDay > 0 ? Math.max(0, available) / perDay : null,
      };
    })
    .sort(
      (a, b) =>
        (a.daysOfCover ?? Number.POSITIVE_INFINITY) - (b.daysOfCover ?? Number.POSITIVE_INFINITY) ||
        a.available - b.available ||
        a.cable_type.localeCompare(b.cable_type),
    );
}

export type Turnaround = Awaited<ReturnType<typeof turnaroundReport>>;
export type LeadTime = Awaited<ReturnType<typeof leadTimeReport>>;
export type RequestsByWeek = Awaited<ReturnType<typeof requestsReport>>;
export type Consumption = Awaited<ReturnType<typeof consumptionReport>>;
export type Cover = Awaited<ReturnType<typeof coverReport>>;

/** One report's figures, after checking the viewer may see it (403 with a sentence). */
export async function runReport(db: Db, viewer: Principal, name: ReportName, f: ReportFilters, now: Date) {
  if (!canSeeReport(viewer, name)) throw forbidden('Only an admin can see the inventory reports.');
  switch (name) {
    case 'turnaround':
      return { name, data: await turnaroundReport(db, f) } as const;
    case 'lead-time':
      return { name, data: await leadTimeReport(db, f) } as const;
    case 'requests':
      return { name, data: await requestsReport(db, f) } as const;
    case 'consumption':
      return { name, data: await consumptionReport(db, f) } as const;
    case 'cover':
      return { name, data: await coverReport(db, f, now) } as const;
  }
}
export type ReportResult = Awaited<ReturnType<typeof runReport>>;

export const listReportLocations = reportLocations;
