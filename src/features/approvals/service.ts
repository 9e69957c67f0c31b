import type { ApprovalSettings } from '../../config.ts';
import { type Db, nowIso } from '../../db/index.ts';
import { maskEmail, maskPhone, normalizePhone } from '../../lib/addresses.ts';
import {
  type ApprovedLine,
  decideTicket,
  detailOf,
  type EventRow,
  findTicket,
  getTicketDetail,
  loadTicket,
  type NewEvent,
  recordTicketEvent,
  type Settings,
  type TicketDetail,
  type TicketRow,
} from '../tickets/service.ts';
import { STATUS_LABELS } from '../tickets/states.ts';
import { findUserByUsername, peopleByIds } from '../users/service.ts';
import { type Approver, actingFields, approversOf, linkHolder } from './links.ts';

export { offerToDelegate, runFollowUps } from './followups.ts';

/**
 * Deciding a request from outside the app: review links (no session; the token is the proof), SMS
 * replies (Twilio's signature is the proof, the sender's number says who) and email replies (the
 * signed reply address says which request, SendGrid's DKIM or SPF result that the sender is who the
 * From says). Each way ends in the tickets feature's one decision (decideTicket), so a link, a text, an
 * email and the ticket page race fairly: the first decision wins and the others are told who decided.
 */

/** What approvals needs from the configuration: the tickets' settings, reminders and replies. */
export type ApprovalsSettings = Settings & { secretKey: string; approvals: ApprovalSettings };

// ---- review links -------------------------------------------------------------------------------

export type LinkCheck =
  | { state: 'open'; detail: TicketDetail; holder: Approver }
  | { state: 'decided'; detail: TicketDetail; holder: Approver; decision?: EventRow }
  | { state: 'expired'; detail: TicketDetail; holder: Approver };

/** The decision that took the ticket out of pending_approval, for "already approved by … at …". */
const decisionOf = (events: EventRow[]) =>
  events.find((e) => e.event_type === 'status_changed' && e.from_status === 'pending_approval');

/** What a review link leads to: 404 no ticket, 403 wrong token, 410 deleted; else open/decided/expired. */
export async function checkReviewLink(db: Db, id: number, token: string, now = new Date()): Promise<LinkCheck> {
  const ticket = await loadTicket(db, id);
  const { approver: holder, expiresAt } = await linkHolder(db, ticket, token);
  const detail = await detailOf(db, ticket);
  if (ticket.status !== 'pending_approval') return { state: 'decided', detail, holder, decision: decisionOf(detail.events) };
  if (expiresAt.getTime() < now.getTime()) return { state: 'expired', detail, holder };
  return { state: 'open', detail, holder };
}

export interface LinkDecision {
  decision: 'approved' | 'rejected';
  reason?: string;
  /** Approving with changes: quantities per item (the others as asked). */
  lines?: ApprovedLine[];
}

/**
 * Decides from a review link (no session): its holder acts "via review link" (for the assignee when
 * a delegate or escalation approver). Returns the state the link was in; only `open` changes anything,
 * and a lost race reports `decided` like a used link.
 */
export async function decideByLink(db: Db, id: number, token: string, choice: LinkDecision, settings: Settings) {
  const check = await checkReviewLink(db, id, token);
  if (check.state !== 'open') return check;
  const { ticket } = check.detail;
  const { guard } = await linkHolder(db, ticket, token);
  const moved = await decideTicket(
    db,
    ticket,
    choice.decision,
    {
      actorId: check.holder.userId,
      via: 'review link',
      reason: choice.reason ?? null,
      // Only over the link that was checked: a link replaced in between decides nothing.
      guard,
      lines: choice.lines,
      ...actingFields(check.holder),
    },
    settings,
  );
  if (!moved) return checkReviewLink(db, id, token);
  return { state: 'done' as const, detail: await getTicketDetail(db, id, true), holder: check.holder };
}

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

// ---- start-up -----------------------------------------------------------------------------------

/** The first name in APPROVAL_ESCALATION_USERS with no account, or undefined when all exist. */
export async function missingEscalationUser(db: Db, settings: Pick<ApprovalSettings, 'escalationUsers'>) {
  for (const username of settings.escalationUsers) if (!(await findUserByUsername(db, username))) return username;
  return undefined;
}
