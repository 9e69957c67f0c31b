import type { Trx } from '../../db/index.ts';
import { email, enqueue, type OutboxMessage } from '../notifications/outbox.ts';
import { adminContacts, contactsByEmails, findUserById } from '../users/service.ts';
import type { OpticsRequestRow } from './queries.ts';
import { OPTICS_STATUS_LABELS, OTHER } from './states.ts';

export interface AlertSettings {
  appUrl: string;
  /** OPTICS_ALERT_EMAILS; empty means every admin. */
  alertEmails: string[];
}

export const requestLink = (appUrl: string, id: number) => `${appUrl}/optics/${id}`;

const facts = (request: OpticsRequestRow) => ({
  id: request.id,
  part_number: request.part_number,
  other: request.selected_part === OTHER,
  quantity: request.quantity,
  requester_name: request.requester_name,
  username: request.requested_by_username,
});

/**
 * A new request is emailed to OPTICS_ALERT_EMAILS, or when that is unset to every admin, in the
 * caller's transaction. An address that belongs to an account is recorded against that user too.
 */
export async function notifySubmitted(trx: Trx, request: OpticsRequestRow, settings: AlertSettings): Promise<void> {
  let recipients: OutboxMessage['recipient'][];
  if (settings.alertEmails.length) {
    const owners = new Map((await contactsByEmails(trx, settings.alertEmails)).map((u) => [u.email.toLowerCase(), u.id]));
    recipients = settings.alertEmails.map((address) => ({
      id: owners.get(address.toLowerCase()) ?? null,
      email: address,
      phone: null,
    }));
  } else {
    recipients = (await adminContacts(trx)).map((a) => ({ id: a.id, email: a.email, phone: null }));
  }
  if (recipients.length === 0) return;
  const message = email('optics_submitted', { request: facts(request), link: requestLink(settings.appUrl, request.id) });
  await enqueue(
    trx,
    recipients.map((recipient) => ({
      notification_type: 'optics_request_submitted',
      optics_request_id: request.id,
      recipient,
      ...message,
    })),
  );
}

/** The requester hears of an approval or a denial (archiving tells no one). */
export async function notifyDecided(
  trx: Trx,
  request: OpticsRequestRow,
  to: 'approved' | 'denied',
  adminUsername: string,
  note: string | null,
  appUrl: string,
): Promise<void> {
  const requester = await findUserById(trx, request.requested_by_id);
  if (!requester) return;
  const data = {
    request: facts(request),
    status: OPTICS_STATUS_LABELS[to].toLowerCase(),
    by: adminUsername,
    note,
    link: requestLink(appUrl, request.id),
  };
  await enqueue(trx, [
    {
      notification_type: `optics_request_${to}`,
      optics_request_id: request.id,
      recipient: { id: requester.id, email: requester.email, phone: null },
      ...email('optics_decided', data),
    },
  ]);
}
