import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../../http/context.ts';
import { requireAdmin } from '../../http/guards.ts';
import { respond } from '../../http/respond.ts';
import { parseWith, validQuery } from '../../http/validate.ts';
import { idParam } from '../../lib/schema.ts';
import { presentNotification } from './presenter.ts';
import { CHANNELS, type LogQuery, logHref, logQuerySchema, NOTIFICATION_STATUSES } from './schema.ts';
import { notificationLogPage, queueCounts, retryNotification } from './service.ts';

const PAGE_SIZE = 50;

/** Badge colours for notification statuses, borrowed from the ticket statuses' palette. */
const STATUS_BADGES = {
  queued: 'status-pending_approval',
  sending: 'status-in_progress',
  sent: 'status-fulfilled',
  failed: 'status-rejected',
  skipped: 'status-closed',
};

/** The admin notification log (DESIGN.md §6): `/admin/notifications` for people, `/api/notifications` for programs. */
export function notificationRoutes({ db }: Deps): Router {
  const router = new Router();

  const logPage = async (ctx: Context, base: string) => {
    requireAdmin(ctx);
    const query = validQuery(ctx, logQuerySchema);
    const page = await notificationLogPage(db, { ...query, limit: query.limit ?? PAGE_SIZE });
    if (page.nextCursor) ctx.set('Link', `<${logHref(base, query, page.nextCursor)}>; rel="next"`);
    return {
      query,
      rows: page.rows.map(presentNotification),
      nextHref: page.nextCursor && logHref(base, query, page.nextCursor),
    };
  };

  router.get('/admin/notifications', async (ctx) => {
    const { query, rows, nextHref } = await logPage(ctx, '/admin/notifications');
    const counts = await queueCounts(db);
    respond(ctx, {
      page: 'admin/notifications',
      title: 'Notification log',
      json: rows,
      data: {
        rows,
        query,
        nextHref,
        counts,
        depth: counts.queued + counts.sending,
        statuses: NOTIFICATION_STATUSES,
        channels: CHANNELS,
        badges: STATUS_BADGES,
        // Retry forms come back to the same filtered view.
        back: logHref('', { ...query, cursor: undefined } as LogQuery),
      },
    });
  });

  router.get('/api/notifications', async (ctx) => {
    const { rows } = await logPage(ctx, '/api/notifications');
    respond(ctx, { json: rows });
  });

  const retry = async (ctx: Context) => {
    const admin = requireAdmin(ctx);
    const { id } = parseWith(idParam, ctx.params);
    const back = logHref('/admin/notifications', validQuery(ctx, logQuerySchema));
    const row = await retryNotification(db, id);
    ctx.log.info({ notification: id, by: admin.id }, 'notification queued again by an admin');
    respond(ctx, {
      json: presentNotification(row),
      redirect: back,
      flash: { kind: 'success', message: `Notification #${id} is queued again.` },
    });
  };
  router.post('/admin/notifications/:id/retry', retry);
  router.post('/api/notifications/:id/retry', retry);

  return router;
}
