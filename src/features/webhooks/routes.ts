import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../../http/context.ts';
import { handleForm, refusalAsFlash } from '../../http/forms.ts';
import { requireAdmin } from '../../http/guards.ts';
import { pageHref } from '../../http/links.ts';
import { audienceOf, respond } from '../../http/respond.ts';
import { bodyOf, parseWith, validBody, validQuery } from '../../http/validate.ts';
import { idParam } from '../../lib/schema.ts';
import { presentDelivery, presentSubscription } from './presenter.ts';
import {
  type DeliveriesQuery,
  deliveriesQuerySchema,
  newSubscriptionSchema,
  subscriptionEditSchema,
  WEBHOOK_EVENTS,
} from './schema.ts';
import {
  attemptsOf,
  createSubscription,
  deliveryOwner,
  deliveryPage,
  editSubscription,
  redeliver,
  removeSubscription,
  rotateSecret,
  subscription,
  subscriptions,
  type WebhookServiceSettings,
} from './service.ts';

const API_PAGE = 50;
const PAGE = 20;

const requireWebhookAdmin = (ctx: Context) => requireAdmin(ctx, 'Only an admin can manage webhooks.');
const idOf = (ctx: Context) => parseWith(idParam, ctx.params).id;
const deliveriesHref = (base: string, q: DeliveriesQuery, cursor?: number) =>
  pageHref(base, { status: q.status, limit: q.limit, cursor });

/** Webhooks (DESIGN.md §16): `/admin/webhooks` for admins, `/api/webhooks` for programs. */
export function webhookRoutes({ db, config }: Deps): Router {
  const router = new Router();
  const settings: WebhookServiceSettings = { secretKey: config.secretKey, allowPrivate: config.webhooks.allowPrivate };

  const listData = async (extra: object = {}) => ({
    webhooks: (await subscriptions(db)).map(presentSubscription),
    events: WEBHOOK_EVENTS,
    allowPrivate: settings.allowPrivate,
    values: { events: [] },
    errors: {},
    ...extra,
  });
  const listView = { page: 'admin/webhooks', title: 'Webhooks', data: () => listData() };

  const detailData = async (ctx: Context, id: number, extra: object = {}) => {
    const query = validQuery(ctx, deliveriesQuerySchema);
    const page = await deliveryPage(db, id, { ...query, limit: query.limit ?? PAGE });
    const webhook = presentSubscription(await subscription(db, id));
    return {
      webhook,
      events: WEBHOOK_EVENTS,
      deliveries: page.deliveries.map(({ row, attempts }) => presentDelivery(row, attempts)),
      query,
      nextHref: page.nextCursor ? deliveriesHref(`/admin/webhooks/${id}`, query, page.nextCursor) : undefined,
      values: { ...webhook, description: webhook.description ?? '' },
      errors: {},
      ...extra,
    };
  };
  const detailView = (ctx: Context, id: number) => ({
    page: 'admin/webhook',
    title: `Webhook #${id}`,
    data: () => detailData(ctx, id),
  });

  // ---- subscriptions ---------------------------------------------------------------------------

  router.get(['/admin/webhooks', '/api/webhooks'], async (ctx) => {
    requireWebhookAdmin(ctx);
    const data = await listData();
    respond(ctx, { page: 'admin/webhooks', title: 'Webhooks', json: data.webhooks, data });
  });

  /** The secret is in this one answer: the page shows it in place instead of redirecting. */
  router.post(['/admin/webhooks', '/api/webhooks'], async (ctx) => {
    const admin = requireWebhookAdmin(ctx);
    await handleForm(ctx, listView, async () => {
      const input = validBody(ctx, newSubscriptionSchema);
      const created = await createSubscription(db, admin, input, settings, new Date());
      const webhook = presentSubscription(created.subscription);
      ctx.log.info({ webhook: webhook.id, events: webhook.events, by: admin.id }, 'webhook created');
      if (audienceOf(ctx) === 'json') ctx.set('Location', `/api/webhooks/${webhook.id}`);
      const message = `Webhook #${webhook.id} created. Copy its secret now: it is not shown again.`;
      respond(ctx, {
        status: audienceOf(ctx) === 'json' ? 201 : 200,
        page: 'admin/webhooks',
        title: 'Webhooks',
        json: { message, secret: created.secret, webhook },
        data: await listData({ created: { secret: created.secret, webhook }, notice: message }),
      });
    });
  });

  router.get(['/admin/webhooks/:id', '/api/webhooks/:id'], async (ctx) => {
    requireWebhookAdmin(ctx);
    const id = idOf(ctx);
    if (audienceOf(ctx) === 'json') {
      respond(ctx, { json: presentSubscription(await subscription(db, id)) });
      return;
    }
    respond(ctx, { page: 'admin/webhook', title: `Webhook #${id}`, data: await detailData(ctx, id) });
  });

  const edit = async (ctx: Context) => {
    const admin = requireWebhookAdmin(ctx);
    const id = idOf(ctx);
    await handleForm(ctx, detailView(ctx, id), async () => {
      // A form without JavaScript sends no `enabled` when its checkbox is unticked: that means false.
      const body = audienceOf(ctx) === 'json' ? bodyOf(ctx) : { enabled: 'false', ...bodyOf(ctx) };
      const input = parseWith(subscriptionEditSchema, body);
      const webhook = presentSubscription(await editSubscription(db, id, input, settings, new Date()));
      ctx.log.info({ webhook: id, enabled: webhook.enabled, by: admin.id }, 'webhook changed');
      respond(ctx, {
        json: { message: 'Webhook saved.', webhook },
        redirect: `/admin/webhooks/${id}`,
        flash: { kind: 'success', message: 'Webhook saved.' },
      });
    });
  };
  router.patch('/api/webhooks/:id', edit);
  router.post('/admin/webhooks/:id', edit);

  router.post(['/admin/webhooks/:id/secret', '/api/webhooks/:id/secret'], async (ctx) => {
    const admin = requireWebhookAdmin(ctx);
    const id = idOf(ctx);
    const rotated = await rotateSecret(db, id, settings, new Date());
    ctx.log.info({ webhook: id, by: admin.id }, 'webhook secret rotated');
    const webhook = presentSubscription(rotated.subscription);
    const message = 'A new secret: the old one no longer signs. Copy it now: it is not shown again.';
    respond(ctx, {
      page: 'admin/webhook',
      title: `Webhook #${id}`,
      json: { message, secret: rotated.secret, webhook },
      data: await detailData(ctx, id, { created: { secret: rotated.secret, webhook }, notice: message }),
    });
  });

  const remove = async (ctx: Context) => {
    const admin = requireWebhookAdmin(ctx);
    const id = idOf(ctx);
    await removeSubscription(db, id);
    ctx.log.info({ webhook: id, by: admin.id }, 'webhook deleted');
    respond(ctx, {
      json: { message: 'Webhook deleted.' },
      redirect: '/admin/webhooks',
      flash: { kind: 'success', message: `Webhook #${id} deleted, with its delivery log.` },
    });
  };
  router.delete('/api/webhooks/:id', remove);
  router.post('/admin/webhooks/:id/delete', remove);

  // ---- the delivery log ------------------------------------------------------------------------------

  router.get('/api/webhooks/:id/deliveries', async (ctx) => {
    requireWebhookAdmin(ctx);
    const id = idOf(ctx);
    const query = validQuery(ctx, deliveriesQuerySchema);
    const page = await deliveryPage(db, id, { ...query, limit: query.limit ?? API_PAGE });
    if (page.nextCursor)
      ctx.set('Link', `<${deliveriesHref(`/api/webhooks/${id}/deliveries`, query, page.nextCursor)}>; rel="next"`);
    respond(ctx, { json: page.deliveries.map(({ row, attempts }) => presentDelivery(row, attempts)) });
  });

  const resend = async (ctx: Context) => {
    const admin = requireWebhookAdmin(ctx);
    const id = idOf(ctx);
    const owner = await deliveryOwner(db, id);
    await refusalAsFlash(
      ctx,
      owner ? `/admin/webhooks/${owner}` : '/admin/webhooks',
      async () => {
        const { row, subscriptionId } = await redeliver(db, id, new Date());
        ctx.log.info({ delivery: id, by: admin.id }, 'webhook redelivered by an admin');
        respond(ctx, {
          json: { message: 'Queued again.', delivery: presentDelivery(row, await attemptsOf(db, id)) },
          redirect: `/admin/webhooks/${subscriptionId}`,
          flash: { kind: 'success', message: `Delivery #${id} is queued again.` },
        });
      },
      [404, 409],
    );
  };
  router.post('/api/webhook-deliveries/:id/redeliver', resend);
  router.post('/admin/webhook-deliveries/:id/redeliver', resend);

  return router;
}
