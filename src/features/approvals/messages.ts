import type { Db, Trx } from '../../db/index.ts';
import { smsText } from '../../lib/sms-text.ts';
import { email, enqueue } from '../notifications/outbox.ts';
import type { ItemRow, TicketRow } from '../tickets/service.ts';
import type { Contact } from '../users/service.ts';

/**
 * The messages of approvals that do not stall: a request offered to a delegate or an escalation
 * approver, a reminder, and the short help answer to an email reply that decided nothing. Each review
 * message carries its recipient's own link and, when replies by email are on, the request's signed
 * reply address as Reply-To.
 */

export type RequestKind = 'offer' | 'reminder' | 'escalation';

export interface ReviewMessage {
  kind: RequestKind;
  ticket: TicketRow;
  items: ItemRow[];
  recipient: Contact;
  reviewUrl: string;
  replyTo?: string;
  /** The assignee the recipient acts for (a delegate, an escalation approver); absent for the assignee. */
  forWhom?: string;
  reminder?: { number: number; of: number };
  /** Escalation: how long the request has waited. */
  waitedHours?: number;
}

const itemLine = (i: ItemRow) => `${i.cable_type} ${i.cable_length}${i.cable_gauge ? ` ${i.cable_gauge}` : ''} x${i.quantity}`;

const smsInstruction = (ticketId: number) => `Reply YES ${ticketId} or NO ${ticketId} reason.`;

function smsLead(m: ReviewMessage): string {
  const t = m.ticket;
  const what = `#${t.id} from ${t.created_by_username}: ${m.items.map(itemLine).join(', ')} @ ${t.location}.`;
  if (m.kind === 'reminder') {
    const n = m.reminder ? ` ${m.reminder.number}/${m.reminder.of}` : '';
    return `Reminder${n}${m.forWhom ? ` (for ${m.forWhom})` : ''}: ${what}`;
  }
  if (m.kind === 'escalation') return `Not decided in ${m.waitedHours}h by ${t.assigned_to_username}: ${what}`;
  return `For ${m.forWhom}, away: ${what}`;
}

const TYPES: Record<RequestKind, string> = {
  offer: 'approval_offered',
  reminder: 'approval_reminder',
  escalation: 'approval_escalated',
};

/** The review email and SMS to one approver (delegate, escalation approver, or a reminder to whoever acts). */
export async function sendReviewMessage(trx: Trx, m: ReviewMessage): Promise<void> {
  const data = {
    kind: m.kind,
    ticket: m.ticket,
    items: m.items.map(itemLine),
    requester: m.ticket.created_by_username,
    assignee: m.ticket.assigned_to_username,
    recipient: m.recipient.username,
    forWhom: m.forWhom,
    reminder: m.reminder,
    waitedHours: m.waitedHours,
    reviewUrl: m.reviewUrl,
    replyByEmail: Boolean(m.replyTo),
  };
  const type = TYPES[m.kind];
  const base = { notification_type: type, recipient: m.recipient, ticket_id: m.ticket.id };
  await enqueue(trx, [
    { ...base, reply_to: m.replyTo, ...email('approval_request', data) },
    { ...base, channel: 'sms', text: smsText(smsLead(m), m.reviewUrl, smsInstruction(m.ticket.id)) },
  ]);
}

/** The short answer to an email reply that decided nothing: what was wrong and how to answer. */
export async function sendEmailHelp(
  trx: Trx | Db,
  recipient: Contact,
  facts: { ticketId?: number; problem: string; replyTo?: string; subject?: string },
): Promise<void> {
  await enqueue(trx, [
    {
      notification_type: 'approval_email_help',
      recipient,
      ticket_id: facts.ticketId ?? null,
      reply_to: facts.replyTo,
      ...email('approval_help', { ...facts, recipient: recipient.username }),
    },
  ]);
}
