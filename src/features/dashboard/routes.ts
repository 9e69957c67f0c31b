import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../../http/context.ts';
import { requireUser } from '../../http/guards.ts';
import { pageHref } from '../../http/links.ts';
import { audienceOf, respond } from '../../http/respond.ts';
import { validQuery } from '../../http/validate.ts';
import { presentTicket } from '../tickets/presenter.ts';
import { isShortSearch, PAGE_SIZES, SHORT_SEARCH_WINDOW } from '../tickets/queries.ts';
import { newTicketFormData } from '../tickets/routes.ts';
import { type ListQuery, listQuerySchema } from '../tickets/schema.ts';
import { dashboardStats, listTicketPage } from '../tickets/service.ts';
import { STATUS_LABELS, STATUSES } from '../tickets/states.ts';

/** The query string for a list page: only what differs from the defaults, so URLs stay short. */
const listHref = (base: string, q: ListQuery, cursor?: number): string =>
  pageHref(base, {
    filter: q.filter === 'all' ? undefined : q.filter,
    status: q.status,
    q: q.q,
    include_deleted: q.include_deleted,
    limit: q.limit,
    cursor,
  });

export function dashboardRoutes(deps: Deps): Router {
  const { db } = deps;
  const router = new Router();

  const page = async (ctx: Context, query: ListQuery, limit: number) => {
    const viewer = requireUser(ctx);
    return listTicketPage(db, {
      viewerId: viewer.id,
      filter: query.filter,
      status: query.status,
      q: query.q,
      includeDeleted: query.include_deleted,
      cursor: query.cursor,
      limit,
    });
  };

  /** The dashboard; htmx asks the same URL for just the list (filters push the URL, so reload works). */
  router.get('/', async (ctx) => {
    requireUser(ctx);
    const query = validQuery(ctx, listQuerySchema);
    const result = await page(ctx, query, query.limit ?? PAGE_SIZES.dashboard);
    const list = {
      rows: result.tickets.map(({ ticket, items }) => presentTicket(ticket, items)),
      nextHref: result.nextCursor ? listHref('/', query, result.nextCursor) : undefined,
      query,
      labels: STATUS_LABELS,
      statuses: STATUSES,
      append: Boolean(query.cursor),
      shortSearchWindow: isShortSearch(query.q) ? SHORT_SEARCH_WINDOW : undefined,
    };
    if (audienceOf(ctx) === 'partial') {
      respond(ctx, { page: 'dashboard/_list', data: list });
      return;
    }
    const [stats, form] = await Promise.all([dashboardStats(db), newTicketFormData(deps)]);
    respond(ctx, { page: 'dashboard/page', title: 'Requests', data: { ...list, stats, form } });
  });

  router.get('/api/tickets', async (ctx) => {
    requireUser(ctx);
    const query = validQuery(ctx, listQuerySchema);
    const result = await page(ctx, query, query.limit ?? PAGE_SIZES.api);
    if (result.nextCursor) ctx.set('Link', `<${listHref('/api/tickets', query, result.nextCursor)}>; rel="next"`);
    respond(ctx, { json: result.tickets.map(({ ticket, items }) => presentTicket(ticket, items)) });
  });

  router.get('/api/dashboard/stats', async (ctx) => {
    requireUser(ctx);
    respond(ctx, { json: await dashboardStats(db) });
  });

  return router;
}
