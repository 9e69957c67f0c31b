import type { Trx } from '../../db/index.ts';
import { smsText } from '../../lib/sms-text.ts';
import { email, enqueue } from '../notifications/outbox.ts';
import { type Contact, peopleByIds } from '../users/service.ts';
import type { TicketRow } from './queries.ts';
import { STATUS_LABELS, type Status } from './states.ts';

export { smsText } from '../../lib/sms-text.ts';

interface ItemLike {
  cable_type: string;
  cable_length: string;
  cable_gauge?: string | null;
  quantity: number;
  /** What leaves stock once approved (quantityToTake), when it differs from what was asked it is shown. */
  granted?: number;
}

const itemLine = (i: ItemLike) => {
  const name = `${i.cable_type} ${i.cable_length}${i.cable_gauge ? ` ${i.cable_gauge}` : ''}`;
  if (i.granted === undefined || i.granted === i.quantity) return `${name} x${i.quantity}`;
  return i.granted === 0 ? `${name}: none (asked ${i.quantity})` : `${name} x${i.granted} (asked ${i.quantity})`;
};

/** How to answer a review SMS: kept whole in every review and reminder SMS. */
export const smsInstruction = (ticketId: number) => `Reply YES ${ticketId} or NO ${ticketId} reason.`;

/** The accounts a message concerns, by id, as users/service.ts reads them. */
export type People = Map<number, Contact>;

interface TicketFacts {
  id: number;
  created_by_id: number;
  assigned_to_id: number;
  priority: string;
  location: string;
  notes: string | null;
}

/** The assignee hears of a new (or reassigned) request by email and SMS, each with the review link. */
export async function notifyReviewNeeded(
  trx: Trx,
  ticket: TicketFacts,
  items: ItemLike[],
  reviewUrl: string,
  type = 'ticket_created',
  /** The requester's and assignee's rows when the caller has read them already. */
  known?: People,
  /** The request's signed reply address (replies by email), when they are on. */
  replyTo?: string,
) {
  const people = known ?? (await peopleByIds(trx, [ticket.created_by_id, ticket.assigned_to_id]));
  const assignee = people.get(ticket.assigned_to_id);
  const requester = people.get(ticket.created_by_id);
  if (!assignee || !requester) return;
  const data = {
    ticket,
    items: items.map(itemLine),
    requester: requester.username,
    assignee: assignee.username,
    reviewUrl,
    replyByEmail: Boolean(replyTo),
  };
  const summary = `#${ticket.id} ${ticket.priority === 'medium' ? '' : `${ticket.priority.toUpperCase()} `}cable request from ${requester.username}: ${items.map(itemLine).join(', ')} @ ${ticket.location}.`;
  await enqueue(trx, [
    { notification_type: type, recipient: assignee, ticket_id: ticket.id, reply_to: replyTo, ...email('ticket_review', data) },
    {
      notification_type: type,
      recipient: assignee,
      ticket_id: ticket.id,
      channel: 'sms',
      text: smsText(summary, reviewUrl, smsInstruction(ticket.id)),
    },
  ]);
}

const TOLD: Partial<Record<Status, string>> = {
  approved: 'ticket_approved',
  rejected: 'ticket_rejected',
  fulfilled: 'ticket_fulfilled',
};

/** The requester hears when their request is approved, rejected or fulfilled. */
export async function notifyStatusChange(
  trx: Trx,
  ticket: TicketRow,
  items: ItemLike[],
  to: Status,
  actorId: number,
  reason: string | null,
  appUrl: string,
) {
  const type = TOLD[to];
  if (!type) return;
  const people = await peopleByIds(trx, [ticket.created_by_id, actorId]);
  const requester = people.get(ticket.created_by_id);
  if (!requester) return;
  const link = `${appUrl}/tickets/${ticket.id}`;
  const status = STATUS_LABELS[to].toLowerCase();
  const by = people.get(actorId)?.username ?? 'someone';
  const data = { ticket, items: items.map(itemLine), status, by, reason, link, requester: requester.username };
  const summary = `Your cable request #${ticket.id} (${ticket.location}) was ${status} by ${by}${reason ? `: ${reason}` : '.'}`;
  await enqueue(trx, [
    { notification_type: type, recipient: requester, ticket_id: ticket.id, ...email('ticket_status', data) },
    { notification_type: type, recipient: requester, ticket_id: ticket.id, channel: 'sms', text: smsText(summary, link) },
  ]);
}
