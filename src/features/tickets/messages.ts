import type { Trx } from '../../db/index.ts';
import { email, enqueue } from '../notifications/outbox.ts';
import { type Contact, peopleByIds } from '../users/service.ts';
import type { TicketRow } from './queries.ts';
import { STATUS_LABELS, type Status } from './states.ts';

interface ItemLike {
  cable_type: string;
  cable_length: string;
  cable_gauge?: string | null;
  quantity: number;
}

const itemLine = (i: ItemLike) => `${i.cable_type} ${i.cable_length}${i.cable_gauge ? ` ${i.cable_gauge}` : ''} x${i.quantity}`;

/** Fits `text` into `room` characters, ending with an ellipsis when cut. */
// '...' rather than '…': the ellipsis is not in the GSM-7 alphabet and would make the SMS UCS-2 (70 a segment).
const clip = (text: string, room: number) =>
  text.length <= room ? text : `${text.slice(0, Math.max(0, room - 3)).trimEnd()}...`;

/** One 160-character SMS where it can be: the link is kept whole, the description shortened. */
export function smsText(description: string, link: string): string {
  const tail = ` ${link}`;
  return `${clip(description, 160 - tail.length)}${tail}`;
}

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
) {
  const people = known ?? (await peopleByIds(trx, [ticket.created_by_id, ticket.assigned_to_id]));
  const assignee = people.get(ticket.assigned_to_id);
  const requester = people.get(ticket.created_by_id);
  if (!assignee || !requester) return;
  const data = { ticket, items: items.map(itemLine), requester: requester.username, assignee: assignee.username, reviewUrl };
  const summary = `#${ticket.id} ${ticket.priority === 'medium' ? '' : `${ticket.priority.toUpperCase()} `}cable request from ${requester.username}: ${items.map(itemLine).join(', ')} @ ${ticket.location}. Review:`;
  await enqueue(trx, [
    { notification_type: type, recipient: assignee, ticket_id: ticket.id, ...email('ticket_review', data) },
    { notification_type: type, recipient: assignee, ticket_id: ticket.id, channel: 'sms', text: smsText(summary, reviewUrl) },
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
