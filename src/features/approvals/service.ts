import { type Db, nowIso } from '../../db/index.ts';
import { forbidden, gone } from '../../http/errors.ts';
import { maskPhone, normalizePhone } from '../../lib/addresses.ts';
import { matchesHash } from '../../lib/crypto.ts';
import {
  decideTicket,
  detailOf,
  type EventRow,
  findTicket,
  getTicketDetail,
  loadTicket,
  recordTicketEvent,
  type Settings,
  type TicketDetail,
  type TicketRow,
} from '../tickets/service.ts';
import { STATUS_LABELS } from '../tickets/states.ts';
import { personById } from '../users/service.ts';

/**
 * Deciding a request from outside the app: review links (no session; the token is the proof) and SMS
 * replies (Twilio's signature is the proof, the sender's number says who). Each way ends in the
 * tickets feature's one decision (decideTicket), so a link, a text and the ticket page race fairly:
 * the first decision wins and the others are told who decided.
 */

// ---- review links -------------------------------------------------------------------------------

export type LinkCheck =
  | { state: 'open'; detail: TicketDetail }
  | { state: 'decided'; detail: TicketDetail; decision?: EventRow }
  | { state: 'expired'; detail: TicketDetail };

/** The decision that took the ticket out of pending_approval, for "already approved by … at …". */
const decisionOf = (events: EventRow[]) =>
  events.find((e) => e.event_type === 'status_changed' && e.from_status === 'pending_approval');

/** What a review link leads to: 404 no ticket, 403 wrong token, 410 deleted; else open/decided/expired. */
export async function checkReviewLink(db: Db, id: number, token: string): Promise<LinkCheck> {
  const ticket = await loadTicket(db, id);
  if (!matchesHash(ticket.approval_token_hash, token)) {
    throw forbidden('This review link is not valid. It may have been replaced by a newer one.');
  }
  if (ticket.status === 'deleted') throw gone('This request was deleted, so there is nothing to review.');
  const detail = await detailOf(db, ticket);
  if (ticket.status !== 'pending_approval') return { state: 'decided', detail, decision: decisionOf(detail.events) };
  const expires = ticket.approval_token_expires_at ? new Date(ticket.approval_token_expires_at).getTime() : 0;
  if (expires < Date.now()) return { state: 'expired', detail };
  return { state: 'open', detail };
}

/**
 * Decides from a review link (no session): the assignee acts "via review link". Returns the state the
 * link was in; only `open` changes anything, and a lost race reports `decided` like a used link.
 */
export async function decideByLink(
  db: Db,
  id: number,
  token: string,
  decision: 'approved' | 'rejected',
  reason: string | undefined,
  settings: Settings,
) {
  const check = await checkReviewLink(db, id, token);
  if (check.state !== 'open') return check;
  const { ticket } = check.detail;
  const moved = await decideTicket(
    db,
    ticket,
    decision,
    {
      actorId: ticket.assigned_to_id,
      via: 'review link',
      reason: reason ?? null,
      // Only over the link that was checked: a link replaced in between decides nothing.
      guard: { approval_token_hash: ticket.approval_token_hash },
    },
    settings,
  );
  return moved ? { state: 'done' as const, detail: await getTicketDetail(db, id, true) } : checkReviewLink(db, id, token);
}

// ---- SMS replies --------------------------------------------------------------------------------

export type SmsDecision =
  | { state: 'done'; ticket: TicketRow }
  | { state: 'decided' | 'deleted' | 'not_assignee'; ticket: TicketRow }
  | { state: 'not_found' };

/** Whether `from` (E.164) is the phone number of the ticket's assignee. */
const fromAssignee = async (db: Db, ticket: TicketRow, from: string) =>
  normalizePhone((await personById(db, ticket.assigned_to_id))?.phone) === from;

/**
 * Writes a refused SMS reply into the ticket's audit trail (actor: the assignee when it came from their
 * phone, else nobody; the number is masked). Returns false when there is no such ticket.
 */
export async function recordSmsRefusal(db: Db, id: number, from: string, problem: string): Promise<boolean> {
  const ticket = await findTicket(db, id);
  if (!ticket) return false;
  await recordTicketEvent(db, {
    ticket_id: id,
    event_type: 'sms_refused',
    actor_user_id: (await fromAssignee(db, ticket, from)) ? ticket.assigned_to_id : null,
    via: 'sms',
    note: `SMS reply from ${maskPhone(from)} refused: ${problem}`,
    created_at: nowIso(),
  });
  return true;
}

/**
 * Decides from an SMS reply (the Twilio webhook checked the signature; `from` is E.164). Only the
 * assignee's own phone may decide, and it decides as the assignee "via sms". Every attempt on an
 * existing ticket is in its audit trail: the decision itself, or an `sms_refused` event saying why not.
 */
export async function decideBySms(
  db: Db,
  id: number,
  from: string,
  decision: 'approved' | 'rejected',
  reason: string | undefined,
  settings: Settings,
): Promise<SmsDecision> {
  const ticket = await findTicket(db, id);
  if (!ticket) return { state: 'not_found' };
  const word = decision === 'approved' ? 'YES' : 'NO';
  const refuse = async (state: 'decided' | 'deleted' | 'not_assignee', current: TicketRow, why: string) => {
    await recordSmsRefusal(db, id, from, `${word}: ${why}`);
    return { state, ticket: current };
  };
  if (!(await fromAssignee(db, ticket, from)))
    return refuse('not_assignee', ticket, 'not sent from the assignee’s phone number.');
  if (ticket.status === 'deleted') return refuse('deleted', ticket, 'the request is deleted.');
  if (ticket.status !== 'pending_approval') {
    return refuse('decided', ticket, `the request was already ${STATUS_LABELS[ticket.status].toLowerCase()}.`);
  }
  const mover = { actorId: ticket.assigned_to_id, via: 'sms' as const, reason: reason ?? null };
  const moved = await decideTicket(db, ticket, decision, mover, settings);
  const now = await loadTicket(db, id);
  if (moved) return { state: 'done', ticket: now };
  return refuse('decided', now, `the request was already ${STATUS_LABELS[now.status].toLowerCase()}.`);
}
