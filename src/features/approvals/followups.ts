import type { ApprovalSettings } from '../../config.ts';
import type { Db, Trx } from '../../db/index.ts';
import {
  findTicket,
  itemsOfTickets,
  pendingForFollowUp,
  recordTicketEvent,
  replyAddressFor,
  reviewLinkSentAt,
  reviewUrl,
  type Settings,
  type TicketRow,
} from '../tickets/service.ts';
import { actingApprover, adminContacts, awayUserIds, type Contact, findUserByUsername, peopleByIds } from '../users/service.ts';
import { issueLink } from './links.ts';
import { sendReviewMessage } from './messages.ts';
import { claimFollowUp, ensureFollowUp, type FollowUpRow, followUpsOf } from './queries.ts';

/**
 * Follow-ups of requests that wait for approval (DESIGN.md §15), run by the worker's timed work and
 * safe to run twice: each step is claimed on the ticket's approval_followups row with a conditional
 * update before anything is sent, and the schedule is in that row, never in timers.
 * - Offer: while the assignee is away, the request goes to their delegate (once per delegate).
 * - Reminders: APPROVAL_REMIND_AFTER_HOURS after the assignee's link went out, and every that many
 *   hours, at most APPROVAL_REMIND_MAX, to whoever acts for the assignee, each with a fresh link. A
 *   worker that was down sends one reminder, not the missed ones.
 * - Escalation: APPROVAL_ESCALATE_AFTER_HOURS after the request was filed, once, to the escalation
 *   approvers (APPROVAL_ESCALATION_USERS, else every admin), each with a link of their own.
 * All stop at the decision: only requests still pending are looked at.
 */

type FollowUpSettings = Settings & { approvals: ApprovalSettings; secretKey: string };

const HOUR = 3_600_000;
const PAGE = 200;

export interface FollowUpReport {
  offered: number;
  reminded: number;
  escalated: number;
}

/** One run over every pending request something may be due for at `now`. */
export async function runFollowUps(db: Db, settings: FollowUpSettings, now: Date): Promise<FollowUpReport> {
  const s = settings.approvals;
  const report: FollowUpReport = { offered: 0, reminded: 0, escalated: 0 };
  const away = new Set(await awayUserIds(db, now.toISOString()));
  const filter = {
    linkSentBefore: s.remindMax > 0 ? new Date(now.getTime() - s.remindAfterHours * HOUR) : undefined,
    createdBefore: s.escalateAfterHours > 0 ? new Date(now.getTime() - s.escalateAfterHours * HOUR) : undefined,
    assignedTo: [...away],
  };
  let afterId = 0;
  for (;;) {
    const tickets = await pendingForFollowUp(db, { ...filter, afterId, limit: PAGE }, settings.approvalTokenTtlHours);
    if (tickets.length === 0) break;
    const rows = new Map(
      (
        await followUpsOf(
          db,
          tickets.map((t) => t.id),
        )
      ).map((r) => [r.ticket_id, r]),
    );
    for (const ticket of tickets) {
      const done = await followUp(db, ticket, rows.get(ticket.id), away.has(ticket.assigned_to_id), settings, now);
      report.offered += done.offered;
      report.reminded += done.reminded;
      report.escalated += done.escalated;
    }
    afterId = tickets.at(-1)?.id ?? afterId;
    if (tickets.length < PAGE) break;
  }
  return report;
}

const iso = (value: Date | string | null | undefined) => (value ? new Date(value).toISOString() : null);

/** How many reminders are due `sentAt` later at `now` (at most the maximum). */
export const remindersDue = (sentAt: Date, now: Date, s: ApprovalSettings) =>
  Math.min(s.remindMax, Math.max(0, Math.floor((now.getTime() - sentAt.getTime()) / (s.remindAfterHours * HOUR))));

async function followUp(
  db: Db,
  ticket: TicketRow,
  known: FollowUpRow | undefined,
  assigneeAway: boolean,
  settings: FollowUpSettings,
  now: Date,
): Promise<FollowUpReport> {
  const s = settings.approvals;
  const report: FollowUpReport = { offered: 0, reminded: 0, escalated: 0 };
  const sentAt = reviewLinkSentAt(ticket, settings.approvalTokenTtlHours) ?? new Date(ticket.created_at);
  const sent = sentAt.toISOString();
  const escalationDue =
    s.escalateAfterHours > 0 && now.getTime() - new Date(ticket.created_at).getTime() >= s.escalateAfterHours * HOUR;
  // Nothing can be due: skip without another query (most pending requests on most runs).
  if (
    known &&
    !assigneeAway &&
    iso(known.link_sent_at) === sent &&
    remindersDue(sentAt, now, s) <= known.reminders_sent &&
    (!escalationDue || known.escalated_at)
  )
    return report;

  await ensureFollowUp(db, ticket.id, sent, now.toISOString());
  let row = (await followUpsOf(db, [ticket.id]))[0] as FollowUpRow;
  if (iso(row.link_sent_at) !== sent) {
    // A new link went out (reassigned, sent again): the reminders count from it.
    await claimFollowUp(
      db,
      ticket.id,
      { link_sent_at: row.link_sent_at },
      { link_sent_at: sent, reminders_sent: 0, last_reminded_at: null, updated_at: now.toISOString() },
    );
    row = (await followUpsOf(db, [ticket.id]))[0] as FollowUpRow;
    if (iso(row.link_sent_at) !== sent) return report;
  }
  const acting = await actingApprover(db, ticket.assigned_to_id, now);
  const delegate = acting.userId !== ticket.assigned_to_id && acting.userId !== ticket.created_by_id ? acting.userId : undefined;

  const due = s.remindMax > 0 ? remindersDue(sentAt, now, s) : 0;
  let offered = false;
  if (delegate && row.offered_to_id !== delegate) {
    offered = await offer(db, ticket, row, delegate, due, settings, now);
    if (offered) report.offered += 1;
  }
  if (!offered && due > row.reminders_sent) {
    if (await remind(db, ticket, row, due, delegate, settings, now)) report.reminded += 1;
  }
  if (escalationDue && !row.escalated_at) {
    if (await escalate(db, ticket, [ticket.assigned_to_id, ...(delegate ? [delegate] : [])], settings, now))
      report.escalated += 1;
  }
  return report;
}

async function sendTo(
  trx: Trx,
  ticket: TicketRow,
  person: Contact,
  role: 'assignee' | 'delegate' | 'escalation',
  message: Omit<Parameters<typeof sendReviewMessage>[1], 'ticket' | 'items' | 'recipient' | 'reviewUrl' | 'replyTo'>,
  settings: FollowUpSettings,
  now: Date,
) {
  const token = await issueLink(trx, ticket, person.id, role, settings.approvalTokenTtlHours, now);
  const items = await itemsOfTickets(trx, [ticket.id]);
  await sendReviewMessage(trx, {
    ...message,
    ticket,
    items,
    recipient: person,
    reviewUrl: reviewUrl(settings.appUrl, ticket.id, token),
    replyTo: replyAddressFor(settings, ticket.id),
  });
}

/** Offers the request to the delegate of its assignee, who is away; it stands for a reminder due now. */
async function offer(
  db: Db,
  ticket: TicketRow,
  row: FollowUpRow,
  delegateId: number,
  due: number,
  settings: FollowUpSettings,
  now: Date,
) {
  return db.transaction(async (trx) => {
    const won = await claimFollowUp(
      trx,
      ticket.id,
      { offered_to_id: row.offered_to_id, reminders_sent: row.reminders_sent },
      { offered_to_id: delegateId, reminders_sent: Math.max(due, row.reminders_sent), updated_at: now.toISOString() },
    );
    if (!won) return false;
    const person = (await peopleByIds(trx, [delegateId])).get(delegateId);
    if (!person) return false;
    await sendTo(trx, ticket, person, 'delegate', { kind: 'offer', forWhom: ticket.assigned_to_username }, settings, now);
    await recordTicketEvent(trx, {
      ticket_id: ticket.id,
      event_type: 'offered',
      actor_user_id: delegateId,
      acting_as: 'delegate',
      on_behalf_of_id: ticket.assigned_to_id,
      note: `Offered to ${person.username}: ${ticket.assigned_to_username} is away.`,
      created_at: now.toISOString(),
    });
    return true;
  });
}

/** Reminder number `due` to whoever acts for the assignee (the delegate when they are away). */
async function remind(
  db: Db,
  ticket: TicketRow,
  row: FollowUpRow,
  due: number,
  delegateId: number | undefined,
  settings: FollowUpSettings,
  now: Date,
) {
  return db.transaction(async (trx) => {
    const won = await claimFollowUp(
      trx,
      ticket.id,
      { reminders_sent: row.reminders_sent, link_sent_at: row.link_sent_at },
      { reminders_sent: due, last_reminded_at: now.toISOString(), updated_at: now.toISOString() },
    );
    if (!won) return false;
    const to = delegateId ?? ticket.assigned_to_id;
    const person = (await peopleByIds(trx, [to])).get(to);
    if (!person) return false;
    const of = settings.approvals.remindMax;
    await sendTo(
      trx,
      ticket,
      person,
      delegateId ? 'delegate' : 'assignee',
      { kind: 'reminder', reminder: { number: due, of }, forWhom: delegateId ? ticket.assigned_to_username : undefined },
      settings,
      now,
    );
    await recordTicketEvent(trx, {
      ticket_id: ticket.id,
      event_type: 'reminded',
      actor_user_id: null,
      note: `Reminder ${due} of ${of} sent to ${person.username}${delegateId ? `, for ${ticket.assigned_to_username}, as delegate` : ''}.`,
      created_at: now.toISOString(),
    });
    return true;
  });
}

/** The people a request is escalated to: APPROVAL_ESCALATION_USERS, else every admin. */
async function escalationApprovers(db: Db, settings: FollowUpSettings): Promise<Contact[]> {
  const names = settings.approvals.escalationUsers;
  if (names.length === 0) return adminContacts(db);
  const found = await Promise.all(names.map((n) => findUserByUsername(db, n)));
  return found.filter((u) => u !== undefined).map((u) => ({ id: u.id, username: u.username, email: u.email, phone: u.phone }));
}

/** Offers the request to the escalation approvers (not its requester, nor those it already waits on). */
async function escalate(db: Db, ticket: TicketRow, waitingOn: number[], settings: FollowUpSettings, now: Date) {
  const people = (await escalationApprovers(db, settings)).filter(
    (p) => p.id !== ticket.created_by_id && !waitingOn.includes(p.id),
  );
  return db.transaction(async (trx) => {
    const won = await claimFollowUp(
      trx,
      ticket.id,
      { escalated_at: null },
      { escalated_at: now.toISOString(), updated_at: now.toISOString() },
    );
    if (!won) return false;
    // Still pending in this transaction: a decision that committed since the page was read stops it.
    if ((await findTicket(trx, ticket.id))?.status !== 'pending_approval') return false;
    const waitedHours = settings.approvals.escalateAfterHours;
    for (const person of people) {
      await sendTo(trx, ticket, person, 'escalation', { kind: 'escalation', waitedHours }, settings, now);
    }
    await recordTicketEvent(trx, {
      ticket_id: ticket.id,
      event_type: 'escalated',
      actor_user_id: null,
      note: people.length
        ? `Not decided in ${waitedHours} hours: offered to ${people.map((p) => p.username).join(', ')} as well.`
        : `Not decided in ${waitedHours} hours, and there is no escalation approver other than those it waits on.`,
      created_at: now.toISOString(),
    });
    return true;
  });
}

/**
 * Offers a new (or reassigned) request to the delegate of its assignee at once, when they are away,
 * rather than at the next timed run. Safe to call for any request: nothing happens when nobody is away.
 */
export async function offerToDelegate(
  db: Db,
  ticketId: number,
  settings: FollowUpSettings,
  now = new Date(),
  /** The assignee when the caller knows it: nobody away is then one query, not two. */
  assigneeId?: number,
) {
  if (assigneeId !== undefined && (await actingApprover(db, assigneeId, now)).userId === assigneeId) return false;
  const ticket = await findTicket(db, ticketId);
  if (ticket?.status !== 'pending_approval') return false;
  const acting = await actingApprover(db, ticket.assigned_to_id, now);
  if (acting.userId === ticket.assigned_to_id || acting.userId === ticket.created_by_id) return false;
  const sent = (reviewLinkSentAt(ticket, settings.approvalTokenTtlHours) ?? new Date(ticket.created_at)).toISOString();
  await ensureFollowUp(db, ticket.id, sent, now.toISOString());
  const row = (await followUpsOf(db, [ticket.id]))[0] as FollowUpRow;
  if (row.offered_to_id === acting.userId) return false;
  return offer(db, ticket, row, acting.userId, 0, settings, now);
}
