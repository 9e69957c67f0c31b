import { Readable } from 'node:stream';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../../http/context.ts';
import { HttpError } from '../../http/errors.ts';
import { requireUser } from '../../http/guards.ts';
import { pageHref } from '../../http/links.ts';
import { audienceOf, respond } from '../../http/respond.ts';
import { validQuery } from '../../http/validate.ts';
import { csvLine } from '../../lib/csv.ts';
import { STATUS_LABELS } from '../tickets/states.ts';
import { listAccounts } from '../users/service.ts';
import { chartsOf } from './charts.ts';
import { canSeeAllRequests, canSeeReport } from './policy.ts';
import { cableName, presentReport, REPORT_STATUSES, reportCsv, shownQuantity } from './presenter.ts';
import { REPORT_NAMES, type ReportName, type ReportQuery, reportQuerySchema } from './schema.ts';
import { listReportLocations, type ReportFilters, runReport, settleFilters } from './service.ts';

/** What each report is called on the page and in its CSV file's name. */
export const REPORT_TITLES: Record<ReportName, string> = {
  turnaround: 'Approval turnaround',
  'lead-time': 'Fulfilment lead time',
  requests: 'Requests per week',
  consumption: 'Consumption per month',
  cover: 'Days of cover',
};

/** Up to this many accounts, the approver filter is a list to pick from; past it, an account id. */
const APPROVER_CHOICES_MAX = 100;

/** The filters' query string, only what was given: the shareable part of every report URL. */
const filtersHref = (base: string, q: ReportQuery) =>
  pageHref(base, { from: q.from, to: q.to, cable_type: q.cable_type, approver: q.approver, location: q.location });

export function reportRoutes(deps: Deps): Router {
  const { db } = deps;
  const router = new Router();
  const now = () => deps.clock?.() ?? new Date();

  const filtersOf = async (ctx: Context) => {
    const viewer = requireUser(ctx);
    const query = validQuery(ctx, reportQuerySchema);
    return { viewer, query, filters: await settleFilters(db, viewer, query, now()) };
  };

  const report = async (ctx: Context, name: ReportName) => {
    const { viewer, query, filters } = await filtersOf(ctx);
    return { viewer, query, filters, report: presentReport(await runReport(db, viewer, name, filters, now()), filters) };
  };

  /** What the filter form needs besides its values: the approvers and locations to choose from. */
  const formChoices = async (ctx: Context) => {
    const viewer = requireUser(ctx);
    const accounts = await listAccounts(db, APPROVER_CHOICES_MAX + 1);
    return {
      approvers: accounts.length > APPROVER_CHOICES_MAX ? undefined : accounts,
      locations: await listReportLocations(db),
      isAdmin: viewer.role === 'admin',
      scope: canSeeAllRequests(viewer) ? 'all' : 'own',
    };
  };

  router.get('/reports', async (ctx) => {
    let settled: Awaited<ReturnType<typeof filtersOf>>;
    try {
      settled = await filtersOf(ctx);
    } catch (err) {
      // A browser gets the form again with what was typed and a sentence beside each wrong field
      // (a plain GET form: no JavaScript needed); JSON clients get the usual 400 body.
      if (!(err instanceof HttpError) || err.status !== 400 || audienceOf(ctx) === 'json') throw err;
      respond(ctx, {
        status: 400,
        page: 'reports/page',
        title: 'Reports',
        data: {
          ...(await formChoices(ctx)),
          reports: [],
          message: err.message,
          errors: err.fields ?? {},
          values: typedValues(ctx.query),
        },
      });
      return;
    }
    const { viewer, query, filters } = settled;
    const names = REPORT_NAMES.filter((name) => canSeeReport(viewer, name));
    // The reports at once: on PostgreSQL each on its own connection of the pool.
    const reports = await Promise.all(
      names.map(async (name) => {
        const presented = presentReport(await runReport(db, viewer, name, filters, now()), filters);
        return {
          name,
          title: REPORT_TITLES[name],
          data: presented,
          charts: chartsOf(presented),
          csvHref: filtersHref(`/reports/${name}.csv`, query),
          jsonHref: filtersHref(`/api/reports/${name}`, query),
        };
      }),
    );
    respond(ctx, {
      page: 'reports/page',
      title: 'Reports',
      data: {
        ...(await formChoices(ctx)),
        reports,
        filters,
        errors: {},
        values: valuesOf(filters, query),
        statusLabels: STATUS_LABELS,
        statuses: REPORT_STATUSES,
        // Pieces as numbers, bulk cable as lengths in its unit ("1,250 ft"), named apart ("Cat6, on reels").
        shown: shownQuantity,
        cableName,
        shareHref: filtersHref('/reports', { ...query, from: filters.from, to: filters.to }),
      },
      json: Object.fromEntries(reports.map((r) => [r.name, r.data])),
    });
  });

  for (const name of REPORT_NAMES) {
    router.get(`/api/reports/${name}`, async (ctx) => {
      const { report: presented } = await report(ctx, name);
      ctx.body = presented;
    });

    router.get(`/reports/${name}.csv`, async (ctx) => {
      const { report: presented, filters } = await report(ctx, name);
      const { header, rows } = reportCsv(presented);
      ctx.set('Content-Disposition', `attachment; filename="${name}-${filters.from}-to-${filters.to}.csv"`);
      ctx.set('Cache-Control', 'no-store');
      ctx.type = 'text/csv; charset=utf-8';
      ctx.body = Readable.from([csvLine(header), ...rows.map(csvLine)]);
    });
  }

  return router;
}

/** The filter form's values: what was asked, with the dates the report settled on. */
const valuesOf = (f: ReportFilters, q: ReportQuery) => ({
  from: f.from,
  to: f.to,
  cable_type: q.cable_type ?? '',
  approver: q.approver ?? '',
  location: f.location,
});

/** The filter form's values as they were typed (the first of a repeated parameter), to show them again. */
const typedValues = (q: Record<string, string | string[] | undefined>) => {
  const one = (name: string) => {
    const v = q[name];
    return String((Array.isArray(v) ? v[0] : v) ?? '');
  };
  return {
    from: one('from'),
    to: one('to'),
    cable_type: one('cable_type'),
    approver: one('approver'),
    location: one('location') || 'all',
  };
};
