import type { Cell } from '../../lib/csv.ts';
import { formatLength, LENGTH_UNITS, type LengthUnit, lengthInUnit, MM_PER_FT } from '../../lib/length.ts';
import { STATUS_LABELS, STATUSES } from '../tickets/states.ts';
import type { SpreadRow } from './queries.ts';
import { COVER_WINDOW_DAYS, type ReportName } from './schema.ts';
import type { ReportFilters, ReportResult, ReportUnit } from './service.ts';

/** The JSON of each report (GET /api/reports/:name), field by field; the page and the CSV show the same figures. */

const round = (n: number | null, places: number) => (n === null ? null : Number(n.toFixed(places)));
const hours = (n: number | null) => round(n === null ? null : Number(n), 2);

const isLength = (unit: ReportUnit): unit is LengthUnit => (LENGTH_UNITS as readonly string[]).includes(unit);
/** A figure as data: pieces as they are, a bulk SKU's millimetres as a number of its unit (3 decimals). */
const inUnit = (n: number, unit: ReportUnit) => (isLength(unit) ? lengthInUnit(n, unit) : n);

/** A figure of the JSON as the page shows it: "12" pieces, "1,250 ft" (formatLength) of bulk cable. */
export function shownQuantity(n: number, unit: ReportUnit): string {
  return isLength(unit) ? formatLength(Math.round(n * (unit === 'ft' ? MM_PER_FT : 1000)), unit) : String(n);
}

/** A cable type as a report line names it: bulk cable is "Cat6, on reels", apart from Cat6's pieces. */
export const cableName = (cableType: string, unit: ReportUnit) => (isLength(unit) ? `${cableType}, on reels` : cableType);

export const presentFilters = (f: ReportFilters) => ({
  from: f.from,
  to: f.to,
  cable_type: f.cableType ?? null,
  approver: f.approver ?? null,
  location: f.location,
  timezone: 'UTC' as const,
  scope: f.scope,
});

const spread = (s: SpreadRow) => ({ count: Number(s.count), median_hours: hours(s.median), p90_hours: hours(s.p90) });
const followUps = (s: SpreadRow) => ({ reminders: Number(s.reminders), escalations: Number(s.escalations) });

/** Statuses a request can be in, as the requests report counts them (deleted ones are left out). */
export const REPORT_STATUSES = STATUSES;

export function presentReport(result: ReportResult, f: ReportFilters) {
  const filters = presentFilters(f);
  switch (result.name) {
    case 'turnaround': {
      const r = result.data;
      return {
        report: 'turnaround' as const,
        filters,
        overall: {
          requests: Number(r.overall.requests),
          decided: Number(r.overall.count),
          ...spread(r.overall),
          ...followUps(r.overall),
        },
        weeks: r.weeks.map((w) => ({
          week: w.week,
          requests: Number(w.requests),
          decided: Number(w.count),
          ...spread(w),
          ...followUps(w),
        })),
        approvers: r.approvers.map((a) => ({ approver: a.approver, decided: Number(a.count), ...spread(a), ...followUps(a) })),
      };
    }
    case 'lead-time': {
      const r = result.data;
      return {
        report: 'lead-time' as const,
        filters,
        overall: spread(r.overall),
        weeks: r.weeks.map((w) => ({ week: w.week, ...spread(w) })),
      };
    }
    case 'requests':
      return {
        report: 'requests' as const,
        filters,
        statuses: [...REPORT_STATUSES],
        weeks: result.data.map((w) => ({
          week: w.week,
          total: w.total,
          by_status: Object.fromEntries(REPORT_STATUSES.map((s) => [s, w.byStatus[s] ?? 0])),
        })),
      };
    case 'consumption':
      return {
        report: 'consumption' as const,
        filters,
        months: result.data.map((m) => ({
          month: m.month,
          location: m.location,
          cable_type: m.cable_type,
          unit: m.unit,
          quantity: inUnit(m.quantity, m.unit),
          quantity_mm: isLength(m.unit) ? m.quantity : null,
        })),
      };
    case 'cover':
      return {
        report: 'cover' as const,
        filters,
        window_days: COVER_WINDOW_DAYS,
        skus: result.data.map((s) => ({
          location: s.location,
          cable_type: s.cable_type,
          cable_length: s.cable_length,
          unit: s.unit,
          on_hand: inUnit(s.on_hand, s.unit),
          reserved: inUnit(s.reserved, s.unit),
          available: inUnit(s.available, s.unit),
          consumed: inUnit(s.consumed, s.unit),
          per_day: round(inUnit(s.perDay, s.unit), 3) as number,
          days_of_cover: round(s.daysOfCover, 1),
        })),
      };
  }
}
export type PresentedReport = ReturnType<typeof presentReport>;

/** Each report as a CSV: its header and its rows (the figures of the page's tables). */
export function reportCsv(report: PresentedReport): { header: string[]; rows: Cell[][] } {
  switch (report.report) {
    case 'turnaround':
      return {
        header: ['group', 'week_utc', 'approver', 'requests', 'decided', 'median_hours', 'p90_hours', 'reminders', 'escalations'],
        rows: [
          ...report.weeks.map((w) => [
            'week',
            w.week,
            null,
            w.requests,
            w.decided,
            w.median_hours,
            w.p90_hours,
            w.reminders,
            w.escalations,
          ]),
          ...report.approvers.map((a) => [
            'approver',
            null,
            a.approver?.username ?? '(account removed)',
            null,
            a.decided,
            a.median_hours,
            a.p90_hours,
            a.reminders,
            a.escalations,
          ]),
          [
            'overall',
            null,
            null,
            report.overall.requests,
            report.overall.decided,
            report.overall.median_hours,
            report.overall.p90_hours,
            report.overall.reminders,
            report.overall.escalations,
          ],
        ],
      };
    case 'lead-time':
      return {
        header: ['week_utc', 'fulfilled', 'median_hours', 'p90_hours'],
        rows: [
          ...report.weeks.map((w) => [w.week, w.count, w.median_hours, w.p90_hours]),
          ['overall', report.overall.count, report.overall.median_hours, report.overall.p90_hours],
        ],
      };
    case 'requests':
      return {
        header: ['week_utc', ...report.statuses, 'total'],
        rows: report.weeks.map((w) => [w.week, ...report.statuses.map((s) => w.by_status[s] ?? 0), w.total]),
      };
    case 'consumption':
      return {
        header: ['month_utc', 'location', 'cable_type', 'unit', 'quantity', 'quantity_mm'],
        rows: report.months.map((m) => [m.month, m.location, m.cable_type, m.unit, m.quantity, m.quantity_mm]),
      };
    case 'cover':
      return {
        header: [
          'location',
          'cable_type',
          'cable_length',
          'unit',
          'on_hand',
          'reserved',
          'available',
          `consumed_last_${report.window_days}_days`,
          'per_day',
          'days_of_cover',
        ],
        rows: report.skus.map((s) => [
          s.location,
          s.cable_type,
          s.cable_length,
          s.unit,
          s.on_hand,
          s.reserved,
          s.available,
          s.consumed,
          s.per_day,
          s.days_of_cover,
        ]),
      };
  }
}

export const STATUS_NAMES = STATUS_LABELS;
export type { ReportName };
