import type { z } from 'zod';
import type { ApiOperation } from '../../http/openapi.ts';
import {
  consumptionJson,
  coverJson,
  leadTimeJson,
  type ReportName,
  reportQuerySchema,
  requestsJson,
  turnaroundJson,
} from './schema.ts';

const tag = 'Reports';
const filters = {
  from: '2026-12-21',
  to: '2027-01-10',
  cable_type: null,
  approver: null,
  location: 'all',
  timezone: 'UTC' as const,
  scope: 'all' as const,
};
const spread = { count: 5, median_hours: 3, p90_hours: 7.6 };

const REPORTS: Record<
  ReportName,
  { summary: string; description: string; schema: z.ZodType; example: unknown; admin?: boolean }
> = {
  turnaround: {
    summary: 'Approval turnaround',
    description:
      'Hours from request to first decision: median and 90th percentile (interpolated, as PostgreSQL’s percentile_cont) per UTC week filed (from Monday), per approver and overall, with reminders and escalations sent. Admins: every request; others: their own.',
    schema: turnaroundJson,
    example: {
      report: 'turnaround',
      filters,
      overall: { requests: 7, decided: 6, count: 6, median_hours: 3.5, p90_hours: 7, reminders: 4, escalations: 1 },
      weeks: [{ week: '2026-12-21', requests: 5, decided: 5, ...spread, reminders: 3, escalations: 1 }],
      approvers: [
        {
          approver: { id: 4, username: 'bob' },
          decided: 3,
          count: 3,
          median_hours: 4,
          p90_hours: 8.8,
          reminders: 3,
          escalations: 1,
        },
      ],
    },
  },
  'lead-time': {
    summary: 'Fulfilment lead time',
    description:
      'Hours from approval to fulfilment, per UTC week filed and overall. Admins see every request; anyone else their own.',
    schema: leadTimeJson,
    example: {
      report: 'lead-time',
      filters,
      overall: { count: 3, median_hours: 24, p90_hours: 24 },
      weeks: [{ week: '2026-12-21', count: 2, median_hours: 15, p90_hours: 22.2 }],
    },
  },
  requests: {
    summary: 'Requests per week by status',
    description:
      'Requests filed per UTC week, by the status they are in now (deleted ones left out). Admins see every request; anyone else their own.',
    schema: requestsJson,
    example: {
      report: 'requests',
      filters,
      statuses: ['pending_approval', 'approved', 'rejected', 'in_progress', 'fulfilled', 'closed'],
      weeks: [
        {
          week: '2026-12-21',
          total: 5,
          by_status: { pending_approval: 0, approved: 2, rejected: 1, in_progress: 0, fulfilled: 2, closed: 0 },
        },
      ],
    },
  },
  consumption: {
    summary: 'Consumption per month',
    description:
      'Pieces (bulk cable: length cut, in its unit) taken by fulfilled requests, per UTC month, location (the one they left from) and cable type; `location` keeps one location. Admins only.',
    schema: consumptionJson,
    admin: true,
    example: {
      report: 'consumption',
      filters,
      months: [
        { month: '2026-12', location: 'Main warehouse', cable_type: 'Cat6', unit: 'each', quantity: 5, quantity_mm: null },
        { month: '2026-12', location: 'Main warehouse', cable_type: 'Cat6', unit: 'ft', quantity: 150, quantity_mm: 45720 },
      ],
    },
  },
  cover: {
    summary: 'Days of cover',
    description:
      'Per SKU at the location ("All stock": all summed): available (on hand less reserved) divided by that location’s average daily consumption over the last 90 days (UTC, today included); soonest out first, unused last. No date range. Admins only.',
    schema: coverJson,
    admin: true,
    example: {
      report: 'cover',
      filters,
      window_days: 90,
      skus: [
        {
          location: 'All stock',
          cable_type: 'Cat5e',
          cable_length: '100ft',
          unit: 'each',
          on_hand: 9,
          reserved: 2,
          available: 7,
          consumed: 7,
          per_day: 0.078,
          days_of_cover: 90,
        },
      ],
    },
  },
};

export const reportOperations: ApiOperation[] = Object.entries(REPORTS).map(([name, r]) => ({
  method: 'get',
  path: `/api/reports/${name}`,
  tag,
  access: r.admin ? 'admin' : 'user',
  summary: r.summary,
  description: r.description,
  query: reportQuerySchema,
  responses: { 200: { description: `The ${r.summary.toLowerCase()} report.`, schema: r.schema, example: r.example } },
  example: { query: { from: '2026-12-21', to: '2027-01-10' } },
}));
