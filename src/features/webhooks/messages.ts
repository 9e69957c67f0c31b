import type { Trx } from '../../db/index.ts';
import { email, enqueue } from '../notifications/outbox.ts';
import { adminContacts } from '../users/service.ts';

/** Every admin is emailed, in the caller's transaction, when a subscription is disabled for failing. */
export async function notifyDisabled(
  trx: Trx,
  subscription: { id: number; url: string },
  failures: number,
  reason: string,
  appUrl: string,
): Promise<void> {
  const admins = await adminContacts(trx);
  const data = {
    id: subscription.id,
    url: subscription.url,
    failures,
    reason,
    link: `${appUrl}/admin/webhooks/${subscription.id}`,
  };
  await enqueue(
    trx,
    admins.map((admin) => ({
      notification_type: 'webhook_disabled',
      recipient: { id: admin.id, email: admin.email, phone: admin.phone },
      ...email('webhook_disabled', { ...data, admin: admin.username }),
    })),
  );
}
