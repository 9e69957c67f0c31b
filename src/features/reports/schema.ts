import { z } from 'zod';
import { personRef } from '../../http/openapi.ts';
import { integer, MAX_ID, optionalParam, text } from '../../lib/schema.ts';

/** The reports, by the name their URLs use (`/api/reports/:name`, `/reports/:name.csv`). */
export const REPORT_NAMES = ['turnaround', 'lead-time', 'requests', 'consumption', 'cover'] as const;
export type ReportName = (typeof REPORT_NAMES)[number];

/** Inventory figures are for admins (DESIGN.md §17); the others show a person their own requests. */
export const INVENTORY_REPORTS: readonly ReportName[] = ['consumption', 'cover'];

/** A range longer than this is refused: a report is a few screens of weeks, not a decade. */
export const MAX_RANGE_DAYS = 3 * 366;
/** Without a range: the last 26 weeks (182 days) up to today, UTC. */
export const DEFAULT_RANGE_DAYS = 182;
/** Days of cover use the consumption of the last 90 days, today included. */
export const COVER_WINDOW_DAYS = 90;

const day = optionalParam(
  z
    .string({ error: 'must be a date' })
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
    .refine(
      (v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v),
      'is not a real date',
    ),
);

/**
 * The filters every report takes, from the query string (so each report's URL can be shared). Dates
 * are UTC days, both ends included. `location` is "all" or a stock location's id (inventory reports only).
 */
export const reportQuerySchema = z
  .object({
    from: day.meta({ description: 'First day (UTC), YYYY-MM-DD. Default: 181 days before `to`.' }),
    to: day.meta({ description: 'Last day (UTC), YYYY-MM-DD, included. Default: today.' }),
    cable_type: optionalParam(text(100)).meta({ description: 'Only this cable type (case and spaces ignored).' }),
    approver: optionalParam(integer(1, MAX_ID)).meta({ description: 'Only requests decided by this account (id).' }),
    location: optionalParam(z.string().regex(/^(all|\d{1,10})$/, 'must be "all" or a location id')).meta({
      description:
        'Stock location for the inventory reports: "all" (the default: every location) or a location id. Ticket reports ignore it.',
    }),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'must not be after "to"', path: ['from'] });
export type ReportQuery = z.infer<typeof reportQuerySchema>;

export const reportNameParam = z.object({
  name: z.enum(REPORT_NAMES, { error: `must be one of ${REPORT_NAMES.join(', ')}` }),
});

// ---- the JSON answers (the presenter fixes them field by field) -------------------------------------

const hours = z.number().nullable().meta({ description: 'Hours, two decimals; null when nothing to measure.' });
const day10 = z.string().meta({ description: 'A UTC day, YYYY-MM-DD.' });

const filtersJson = z.object({
  from: day10,
  to: day10,
  cable_type: z.string().nullable(),
  approver: z.number().int().nullable(),
  location: z.string(),
  timezone: z.literal('UTC'),
  scope: z.enum(['all', 'own']).meta({ description: 'all: every request (admins); own: the caller’s own requests.' }),
});

const unit = z.enum(['each', 'ft', 'm']).meta({ description: 'each: pieces; ft, m: bulk cable, in that unit.' });

const spread = { count: z.number().int(), median_hours: hours, p90_hours: hours };

export const turnaroundJson = z
  .object({
    report: z.literal('turnaround'),
    filters: filtersJson,
    overall: z.object({
      requests: z.number().int(),
      decided: z.number().int(),
      ...spread,
      reminders: z.number().int(),
      escalations: z.number().int(),
    }),
    weeks: z.array(
      z.object({
        week: day10.meta({ description: 'The Monday (UTC) of the week the requests were filed.' }),
        requests: z.number().int(),
        decided: z.number().int(),
        ...spread,
        reminders: z.number().int(),
        escalations: z.number().int(),
      }),
    ),
    approvers: z.array(
      z.object({
        approver: personRef.nullable(),
        decided: z.number().int(),
        ...spread,
        reminders: z.number().int(),
        escalations: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'TurnaroundReport' });

export const leadTimeJson = z
  .object({
    report: z.literal('lead-time'),
    filters: filtersJson,
    overall: z.object(spread),
    weeks: z.array(z.object({ week: day10, ...spread })),
  })
  .meta({ id: 'LeadTimeReport' });

export const requestsJson = z
  .object({
    report: z.literal('requests'),
    filters: filtersJson,
    statuses: z.array(z.string()),
    weeks: z.array(z.object({ week: day10, total: z.number().int(), by_status: z.record(z.string(), z.number().int()) })),
  })
  .meta({ id: 'RequestsReport' });

export const consumptionJson = z
  .object({
    report: z.literal('consumption'),
    filters: filtersJson,
    months: z.array(
      z.object({
        month: z.string().meta({ description: 'YYYY-MM (UTC).' }),
        location: z.string().meta({ description: 'The stock location the pieces were taken from.' }),
        cable_type: z.string(),
        unit: unit,
        quantity: z.number().meta({ description: 'Pieces, or the length cut from reels.' }),
        quantity_mm: z.number().int().nullable(),
      }),
    ),
  })
  .meta({ id: 'ConsumptionReport' });

export const coverJson = z
  .object({
    report: z.literal('cover'),
    filters: filtersJson,
    window_days: z.number().int(),
    skus: z.array(
      z.object({
        location: z.string().meta({ description: 'The location filtered on, or "All stock" (every location summed).' }),
        cable_type: z.string(),
        cable_length: z.string(),
        unit: unit,
        on_hand: z.number(),
        reserved: z.number().meta({ description: 'Promised to approved requests not yet fulfilled.' }),
        available: z.number().meta({ description: 'on_hand - reserved.' }),
        consumed: z.number().meta({ description: 'Used in the window.' }),
        per_day: z.number().meta({ description: 'Average use a day over the window.' }),
        days_of_cover: z
          .number()
          .nullable()
          .meta({ description: 'available (0 if below) / per_day, one decimal; null when none was consumed.' }),
      }),
    ),
  })
  .meta({ id: 'CoverReport' });
