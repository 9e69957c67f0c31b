import Router from '@koa/router';
import type { Deps } from '../../http/context.ts';
import { requireUser } from '../../http/guards.ts';
import { audienceOf, respond } from '../../http/respond.ts';
import { validQuery } from '../../http/validate.ts';
import { listData, newTicketFormData, PAGE_SIZES, ticketLists } from '../tickets/pages.ts';
import { listQuerySchema } from '../tickets/schema.ts';
import { dashboardStats } from '../tickets/service.ts';

/**
 * The dashboard: the status counts, the ticket list and the new-request form on one page. The list
 * and the form are the tickets feature's (tickets/pages.ts); htmx asks the same URL for just the list
 * (filters push the URL, so a reload shows the same list).
 */
export function dashboardRoutes(deps: Deps): Router {
  const { db } = deps;
  const router = new Router();
  const lists = ticketLists(deps);

  router.get('/', async (ctx) => {
    requireUser(ctx);
    const query = validQuery(ctx, listQuerySchema);
    const limit = query.limit ?? PAGE_SIZES.dashboard;
    if (audienceOf(ctx) === 'partial') {
      await lists.answer(ctx, query, limit, (page) => respond(ctx, { page: 'dashboard/_list', data: listData(query, page) }));
      return;
    }
    const list = listData(query, await lists.read(ctx, query, limit));
    const [stats, form] = await Promise.all([dashboardStats(db), newTicketFormData(deps, {}, 0, undefined, requireUser(ctx).id)]);
    respond(ctx, { page: 'dashboard/page', title: 'Requests', data: { ...list, stats, form } });
  });

  router.get('/api/dashboard/stats', async (ctx) => {
    requireUser(ctx);
    respond(ctx, { json: await dashboardStats(db) });
  });

  return router;
}
