import type { ApprovalSettings } from '../../config.ts';
import { type Db, nowIso } from '../../db/index.ts';
import { maskEmail, maskPhone, normalizePhone } from '../../lib/addresses.ts';
import {
  decideTicket,
  findTicket,
  loadTicket,
  type NewEvent,
  recordTicketEvent,
  type Settings,
  type TicketRow,
} from '../tickets/service.ts';
import { STATUS_LABELS } from '../tickets/states.ts';
import { peopleByIds } from '../users/service.ts';
import { actingFields, approversOf } from './links.ts';

/** What approvals needs from the configuration: the tickets' settings, reminders and replies. */
export type ApprovalsSettings = Settings & { secretKey: string; approvals: ApprovalSettings };

// ---- replies (SMS, email) -----------------------------------------------------------------------

export type ReplyDecision =
  | { state: 'done'; ticket: TicketRow }
  | { state: 'decided' | 'deleted' | 'not_assignee'; ticket: TicketRow }
  | { state: 'not_found' };
/** The SMS name of the same outcomes. */
export type SmsDecision = ReplyDecision;

type Channel = 'sms' | 'email';

/** Who among the request's approvers sent a reply from `address` (a phone number or an email address). */
async function approverByAddress(db: Db, ticket: TicketRow, channel: Channel, address: string, now: Date) {
  const approvers = await approversOf(db, ticket, now);
  const people = await peopleByIds(
    db,
    approvers.map((a) => a.userId),
  );
  return approvers.find((a) => {
    const person = people.get(a.userId);
    if (!person) return false;
    if (channel === 'sms') return normalizePhone(person.phone) === address;
    return person.email.toLowerCase() === address.toLowerCase();
  });
}

/**
 * Writes a refused reply into the ticket's audit trail (actor: the approver it came from, if it came
 * from one; the address masked). Returns false when there is no such ticket.
 */
export async function recordReplyRefusal(
  db: Db,
  channel: Channel,
  id: number,
  from: string,
  problem: string,
  now = new Date(),
): Promise<boolean> {
  const ticket = await findTicket(db, id);
  if (!ticket) return false;
  const approver = await approverByAddress(db, ticket, channel, from, now);
  const event: NewEvent = {
    ticket_id: id,
    event_type: channel === 'sms' ? 'sms_refused' : 'email_refused',
    actor_user_id: approver?.userId ?? null,
    via: channel,
    note: `${channel === 'sms' ? 'SMS' : 'Email'} reply from ${channel === 'sms' ? maskPhone(from) : maskEmail(from)} refused: ${problem}`,
    created_at: nowIso(),
  };
  await recordTicketEvent(db, event);
  return true;
}

/** The SMS form kept for its callers. */
export const recordSmsRefusal = (db: Db, id: number, from: string, problem: string) =>
  recordReplyRefusal(db, 'sms', id, from, problem);

/**
 * Decides from a reply (the webhook checked the signature; `from` is E.164 or an email address). The
 * assignee, whoever acts for them while they are away and the holders of delegate and escalation links
 * may decide, each as themself "via sms" or "via email". Every attempt on an existing ticket is in its
 * audit trail: the decision itself, or a refusal event saying why not.
 */
export async function decideByReply(
  db: Db,
  channel: Channel,
  id: number,
  from: string,
  decision: 'approved' | 'rejected',
  reason: string | undefined,
  settings: Settings,
  now = new Date(),
): Promise<ReplyDecision> {
  const ticket = await findTicket(db, id);
  if (!ticket) return { state: 'not_found' };
  const word = decision === 'approved' ? 'YES' : 'NO';
  const refuse = async (state: 'decided' | 'deleted' | 'not_assignee', current: TicketRow, why: string) => {
    await recordReplyRefusal(db, channel, id, from, `${word}: ${why}`, now);
    return { state, ticket: current };
  };
  const approver = await approverByAddress(db, ticket, channel, from, now);
  if (!approver) {
    const whose = channel === 'sms' ? 'phone number' : 'email address';
    return refuse('not_assignee', ticket, `not sent from the assignee’s ${whose}, nor a delegate’s or escalation approver’s.`);
  }
  if (ticket.status === 'deleted') return refuse('deleted', ticket, 'the request is deleted.');
  if (ticket.status !== 'pending_approval') {
    return refuse('decided', ticket, `the request was already ${STATUS_LABELS[ticket.status].toLowerCase()}.`);
  }
  const mover = { actorId: approver.userId, via: channel, reason: reason ?? null, ...actingFields(approver) };
  const moved = await decideTicket(db, ticket, decision, mover, settings);
  const current = await loadTicket(db, id);
  if (moved) return { state: 'done', ticket: current };
  return refuse('decided', current, `the request was already ${STATUS_LABELS[current.status].toLowerCase()}.`);
}

/** An SMS reply (see decideByReply). */
export const decideBySms = (
  db: Db,
  id: number,
  from: string,
  decision: 'approved' | 'rejected',
  reason: string | undefined,
  settings: Settings,
) => decideByReply(db, 'sms', id, from, decision, reason, settings);
