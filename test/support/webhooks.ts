import type { Logger } from 'pino';
import { toPrincipal } from '../../src/features/users/presenter.ts';
import { WEBHOOK_EVENTS, type WebhookEvent } from '../../src/features/webhooks/schema.ts';
import { createSubscription } from '../../src/features/webhooks/service.ts';
import { WebhookWorker, type WebhookWorkerOptions } from '../../src/features/webhooks/worker.ts';
import { webhookWorkerOptions } from '../../src/worker.ts';
import type { TestApp } from './app.ts';
import { createUser } from './factories.ts';

/** A subscription made through the webhooks service (an admin made when not given): its id and secret. */
export async function buildWebhook(app: TestApp, spec: { url: string; events?: WebhookEvent[]; adminId?: number }) {
  const admin = spec.adminId ? { id: spec.adminId } : await createUser(app.db, { role: 'admin' });
  const { subscription, secret } = await createSubscription(
    app.db,
    toPrincipal({ id: admin.id, username: 'admin', email: 'a@example.test', role: 'admin' }),
    { url: spec.url, events: spec.events ?? [...WEBHOOK_EVENTS] },
    { secretKey: app.config.secretKey, allowPrivate: app.config.webhooks.allowPrivate },
    new Date(),
  );
  return { id: subscription.id, secret };
}

/** A webhook worker on the test app's database and settings; tests call runOnce() themselves. */
export function webhookWorker(app: TestApp, overrides: Partial<WebhookWorkerOptions> = {}, logger?: Logger): WebhookWorker {
  return new WebhookWorker({ ...webhookWorkerOptions(app.db, logger ?? app.logger, app.config), ...overrides });
}

/** Every delivery row, oldest first, with its attempts. */
export async function deliveriesOf(app: TestApp, subscriptionId: number) {
  const deliveries = await app.db('webhook_deliveries').where({ subscription_id: subscriptionId }).orderBy('id');
  const attempts = await app
    .db('webhook_attempts')
    .whereIn(
      'delivery_id',
      deliveries.map((d) => d.id),
    )
    .orderBy('id');
  return deliveries.map((d) => ({ ...d, attempts_log: attempts.filter((a) => a.delivery_id === d.id) }));
}
