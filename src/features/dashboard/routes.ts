import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../../http/context.ts';
import { requireUser } from '../../http/guards.ts';
import { codeVersion, KeptResponses, keepResponse, sendKept } from '../../http/kept-responses.ts';
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

/** Memory for kept list answers: a 50-ticket JSON list is ~30 KB, the dashboard's fragment ~7 KB. */
const KEPT_LISTS_BYTES = 8 * 1024 * 1024;

export function dashboardRoutes(deps: Deps): Router {
  const { db } = deps;
  const router = new Router();

  const page = async (ctx: Context, query: ListQuery, limit: number, versioned?: { known?: string }) => {
    const viewer = requireUser(ctx);
    const filter = {
      viewerId: viewer.id,
      filter: query.filter,
      status: query.status,
      q: query.q,
      includeDeleted: query.include_deleted,
      cursor: query.cursor,
      limit,
    };
    return listTicketPage(db, filter, versioned);
  };
  type Page = Awaited<ReturnType<typeof page>>;

  /**
   * A list answer (the JSON list, the dashboard's list fragment), kept with its page's version on
   * PostgreSQL and sent again while the page is unchanged (kept-responses.ts). The version covers the
   * rows, so a kept answer is right for whoever asks; its key is what else the answer depends on (the
   * audience, the query) and the viewer when the filter names them ("Created by me", "Assigned to
   * me"), so that two people's lists do not replace each other. Not in development, where templates
   * are read again at each render and a kept fragment would hide an edit. The code's hash for the
   * ETags (~20 ms of reading files) is made here, at start-up, not in the first list request.
   */
  const keptLists = deps.config.env === 'development' ? undefined : new KeptResponses(KEPT_LISTS_BYTES);
  if (keptLists) codeVersion();
  const listAnswer = async (ctx: Context, query: ListQuery, limit: number, answer: (result: Page) => void) => {
    if (!keptLists) {
      answer(await page(ctx, query, limit));
      return;
    }
    const key = `${audienceOf(ctx)} ${query.filter === 'all' ? '' : requireUser(ctx).id} ${JSON.stringify(query)}`;
    const kept = keptLists.get(key);
    const result = await page(ctx, query, limit, { known: kept?.version });
    if (result.unchanged && kept) {
      sendKept(ctx, kept);
      return;
    }
    answer(result);
    if (result.version) keepResponse(ctx, keptLists, key, result.version, ['Link']);
  };

  const listData = (query: ListQuery, result: Page) => ({
    rows: result.tickets.map(({ ticket, items }) => presentTicket(ticket, items)),
    nextHref: result.nextCursor ? listHref('/', query, result.nextCursor) : undefined,
    query,
    labels: STATUS_LABELS,
    statuses: STATUSES,
    append: Boolean(query.cursor),
    shortSearchWindow: isShortSearch(query.q) ? SHORT_SEARCH_WINDOW : undefined,
  });

  /** The dashboard; htmx asks the same URL for just the list (filters push the URL, so reload works). */
  router.get('/', async (ctx) => {
    requireUser(ctx);
    const query = validQuery(ctx, listQuerySchema);
    const limit = query.limit ?? PAGE_SIZES.dashboard;
    if (audienceOf(ctx) === 'partial') {
      await listAnswer(ctx, query, limit, (result) => respond(ctx, { page: 'dashboard/_list', data: listData(query, result) }));
      return;
    }
    const list = listData(query, await page(ctx, query, limit));
    const [stats, form] = await Promise.all([dashboardStats(db), newTicketFormData(deps)]);
    respond(ctx, { page: 'dashboard/page', title: 'Requests', data: { ...list, stats, form } });
  });

  router.get('/api/tickets', async (ctx) => {
    requireUser(ctx);
    const query = validQuery(ctx, listQuerySchema);
    await listAnswer(ctx, query, query.limit ?? PAGE_SIZES.api, (result) => {
      if (result.nextCursor) ctx.set('Link', `<${listHref('/api/tickets', query, result.nextCursor)}>; rel="next"`);
      respond(ctx, { json: result.tickets.map(({ ticket, items }) => presentTicket(ticket, items)) });
    });
  });

  router.get('/api/dashboard/stats', async (ctx) => {
    requireUser(ctx);
    respond(ctx, { json: await dashboardStats(db) });
  });

  return router;
}
