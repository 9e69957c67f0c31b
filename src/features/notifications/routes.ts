import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../../http/context.ts';
import { notFound } from '../../http/errors.ts';
import { requireAdmin } from '../../http/guards.ts';
import { respond } from '../../http/respond.ts';
import { parseWith, validQuery } from '../../http/validate.ts';
import { idParam } from '../../lib/schema.ts';
import { presentNotification, presentPreview } from './presenter.ts';
import { CHANNELS, type LogQuery, logHref, logQuerySchema, NOTIFICATION_STATUSES } from './schema.ts';
import { notificationLogPage, notificationPreview, queueCounts, retryNotification, unconfiguredChannels } from './service.ts';

const PAGE_SIZE = 50;

/** Badge colours for notification statuses, borrowed from the ticket statuses' palette. */
const STATUS_BADGES = {
  queued: 'status-pending_approval',
  sending: 'status-in_progress',
  sent: 'status-fulfilled',
  failed: 'status-rejected',
  skipped: 'status-closed',
};

/**
 * The stored HTML of an email, as its own document for the preview's sandboxed iframe: no script, no
 * request anywhere (inline styles and data: images only), an opaque origin even when opened directly
 * (CSP sandbox), framed only by this site's pages.
 */
const EMAIL_DOCUMENT_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'",
  'X-Frame-Options': 'SAMEORIGIN',
  'Referrer-Policy': 'no-referrer',
  // The message holds a live review link: not kept by the browser or a proxy.
  'Cache-Control': 'no-store',
};

/**
 * The admin notification log (DESIGN.md §6): `/admin/notifications` for people, `/api/notifications`
 * for programs; one message's preview at `/admin/notifications/:id` and `/api/notifications/:id`.
 */
export function notificationRoutes({ db, config }: Deps): Router {
  const router = new Router();
  const unconfigured = unconfiguredChannels(config.notifications);

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
        unconfigured,
        // Retry forms come back to the same filtered view.
        back: logHref('', { ...query, cursor: undefined } as LogQuery),
      },
    });
  });

  router.get('/api/notifications', async (ctx) => {
    const { rows } = await logPage(ctx, '/api/notifications');
    respond(ctx, { json: rows });
  });

  const preview = async (ctx: Context) => {
    requireAdmin(ctx);
    const { id } = parseWith(idParam, ctx.params);
    const found = await notificationPreview(db, id, config.notifications);
    ctx.set('Cache-Control', 'no-store');
    return found;
  };

  router.get('/admin/notifications/:id', async (ctx) => {
    const found = await preview(ctx);
    const presented = presentPreview(found);
    respond(ctx, {
      page: 'admin/notification',
      title: `Notification #${found.row.id}`,
      json: presented,
      data: { n: presented, badges: STATUS_BADGES, unconfigured: unconfigured[found.row.channel] },
    });
  });

  router.get('/api/notifications/:id', async (ctx) => {
    respond(ctx, { json: presentPreview(await preview(ctx)) });
  });

  router.get('/admin/notifications/:id/email.html', async (ctx) => {
    const { message } = await preview(ctx);
    if (message.html === null) throw notFound('This notification has no HTML part.');
    ctx.set(EMAIL_DOCUMENT_HEADERS);
    ctx.type = 'html';
    ctx.body = message.html;
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
