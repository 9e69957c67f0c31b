import type { ApprovalSettings } from '../../config.ts';
import type { Db } from '../../db/index.ts';
import {
  type ApprovedLine,
  decideTicket,
  detailOf,
  type EventRow,
  getTicketDetail,
  loadTicket,
  type Settings,
  type TicketDetail,
} from '../tickets/service.ts';
import { findUserByUsername } from '../users/service.ts';
import { type Approver, actingFields, linkHolder } from './links.ts';

export { type EmailOutcome, handleEmailReply } from './email.ts';
export { offerToDelegate, runFollowUps } from './followups.ts';
export {
  type ApprovalsSettings,
  decideByReply,
  decideBySms,
  type ReplyDecision,
  recordReplyRefusal,
  recordSmsRefusal,
  type SmsDecision,
} from './replies.ts';

/**
 * Deciding a request from outside the app: review links (no session; the token is the proof), SMS
 * replies (Twilio's signature is the proof, the sender's number says who) and email replies (the
 * signed reply address says which request, SendGrid's DKIM or SPF result that the sender is who the
 * From says). Each way ends in the tickets feature's one decision (decideTicket), so a link, a text, an
 * email and the ticket page race fairly: the first decision wins and the others are told who decided.
 */

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
  /** Approving: take the cable from this location. */
  source_location_id?: number;
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
      sourceLocationId: choice.source_location_id,
      ...actingFields(check.holder),
    },
    settings,
  );
  if (!moved) return checkReviewLink(db, id, token);
  return { state: 'done' as const, detail: await getTicketDetail(db, id, true), holder: check.holder };
}

// ---- start-up -----------------------------------------------------------------------------------

/** The first name in APPROVAL_ESCALATION_USERS with no account, or undefined when all exist. */
export async function missingEscalationUser(db: Db, settings: Pick<ApprovalSettings, 'escalationUsers'>) {
  for (const username of settings.escalationUsers) if (!(await findUserByUsername(db, username))) return username;
  return undefined;
}
