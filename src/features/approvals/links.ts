import type { Db, Trx } from '../../db/index.ts';
import { forbidden, gone } from '../../http/errors.ts';
import { matchesHash, newLinkSecret, sha256 } from '../../lib/crypto.ts';
import type { TicketRow } from '../tickets/service.ts';
import { actingApprover } from '../users/service.ts';
import { findLinkByHash, insertLink, type LinkRole, liveLinks } from './queries.ts';

/**
 * Who may decide a request from outside the app, and the links they hold. The assignee's own link lives
 * on the ticket (tickets.approval_token_hash, replaced by "send the review link again"); every other
 * link (a delegate's, an escalation approver's, the fresh one in each reminder) is an approval_links
 * row, as a hash. A link works while it is live and its holder may still decide: a delegate's or a
 * reminder's link stops when the request goes to someone else; an escalation approver's does not.
 */

export interface Approver {
  userId: number;
  role: LinkRole;
  /** The assignee a delegate or an escalation approver decides for. */
  onBehalfOfId?: number;
}

/** A new link for `userId` on `ticket` (in the caller's transaction); returns its token, which exists only here. */
export async function issueLink(
  trx: Trx,
  ticket: Pick<TicketRow, 'id' | 'assigned_to_id'>,
  userId: number,
  role: LinkRole,
  ttlHours: number,
  now: Date,
): Promise<string> {
  const { token, hash, expiresAt } = newLinkSecret(ttlHours * 3_600_000, now);
  await insertLink(trx, {
    ticket_id: ticket.id,
    user_id: userId,
    for_user_id: role === 'escalation' ? null : ticket.assigned_to_id,
    role,
    token_hash: hash,
    expires_at: expiresAt,
    created_at: now.toISOString(),
  });
  return token;
}

export interface LinkHolder {
  approver: Approver;
  expiresAt: Date;
  /** More conditions on the ticket row for the decision (the assignee's link: that it is still the link). */
  guard: Record<string, unknown>;
}

/** Whose link `token` is on `ticket`: 403 for a wrong or replaced one, 410 for a deleted request. */
export async function linkHolder(db: Db, ticket: TicketRow, token: string): Promise<LinkHolder> {
  if (matchesHash(ticket.approval_token_hash, token)) {
    if (ticket.status === 'deleted') throw gone('This request was deleted, so there is nothing to review.');
    const expires = ticket.approval_token_expires_at ? new Date(ticket.approval_token_expires_at) : new Date(0);
    return {
      approver: { userId: ticket.assigned_to_id, role: 'assignee' },
      expiresAt: expires,
      guard: { approval_token_hash: ticket.approval_token_hash },
    };
  }
  const link = token.length <= 200 ? await findLinkByHash(db, ticket.id, sha256(token)) : undefined;
  if (!link) throw forbidden('This review link is not valid. It may have been replaced by a newer one.');
  if (ticket.status === 'deleted') throw gone('This request was deleted, so there is nothing to review.');
  if (link.role !== 'escalation' && link.for_user_id !== ticket.assigned_to_id) {
    throw forbidden('This review link is no longer valid: the request was given to someone else.');
  }
  if (link.role === 'assignee' && link.user_id !== ticket.assigned_to_id) {
    throw forbidden('This review link is no longer valid: the request was given to someone else.');
  }
  return {
    approver: {
      userId: link.user_id,
      role: link.user_id === ticket.assigned_to_id ? 'assignee' : link.role,
      ...(link.user_id === ticket.assigned_to_id ? {} : { onBehalfOfId: ticket.assigned_to_id }),
    },
    expiresAt: new Date(link.expires_at),
    guard: {},
  };
}

/**
 * Everyone who may decide `ticket` by SMS or email reply now, most direct first: its assignee, whoever
 * acts for them while they are away, and the holders of live delegate and escalation links. Never the
 * requester as anyone but the assignee (a request needs a second person).
 */
export async function approversOf(db: Db, ticket: TicketRow, now: Date): Promise<Approver[]> {
  const found: Approver[] = [{ userId: ticket.assigned_to_id, role: 'assignee' }];
  const add = (approver: Approver) => {
    if (approver.userId === ticket.created_by_id || found.some((a) => a.userId === approver.userId)) return;
    found.push(approver);
  };
  const acting = await actingApprover(db, ticket.assigned_to_id, now);
  if (acting.userId !== ticket.assigned_to_id)
    add({ userId: acting.userId, role: 'delegate', onBehalfOfId: ticket.assigned_to_id });
  const links = await liveLinks(db, ticket.id, now.toISOString());
  for (const role of ['delegate', 'escalation'] as const) {
    for (const link of links) {
      if (link.role !== role || (role === 'delegate' && link.for_user_id !== ticket.assigned_to_id)) continue;
      add({ userId: link.user_id, role, onBehalfOfId: ticket.assigned_to_id });
    }
  }
  return found;
}

/** The timeline's "for A, as delegate" (or as escalation approver) for a decision by `approver`. */
export const actingFields = (approver: Approver) =>
  approver.role === 'assignee' ? {} : { actingAs: approver.role, onBehalfOfId: approver.onBehalfOfId };
