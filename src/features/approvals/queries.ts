import type { Db, Trx } from '../../db/index.ts';

/** All Knex for approvals: its own tables (approval_links, approval_followups). Timestamps as ISO strings. */

export type Q = Db | Trx;

export type LinkRole = 'assignee' | 'delegate' | 'escalation';

export interface ApprovalLinkRow {
  id: number;
  ticket_id: number;
  user_id: number;
  for_user_id: number | null;
  role: LinkRole;
  token_hash: string;
  expires_at: Date | string;
  created_at: Date | string;
}

export const insertLink = (q: Q, row: Omit<ApprovalLinkRow, 'id'>) => q('approval_links').insert(row);

export const findLinkByHash = (q: Q, ticketId: number, hash: string): Promise<ApprovalLinkRow | undefined> =>
  q('approval_links').where({ ticket_id: ticketId, token_hash: hash }).first();

/** The links of a ticket still live at `now`. */
export const liveLinks = (q: Q, ticketId: number, now: string): Promise<ApprovalLinkRow[]> =>
  q('approval_links').where({ ticket_id: ticketId }).andWhere('expires_at', '>', now).orderBy('id');

export interface FollowUpRow {
  ticket_id: number;
  link_sent_at: Date | string;
  reminders_sent: number;
  last_reminded_at: Date | string | null;
  escalated_at: Date | string | null;
  offered_to_id: number | null;
  updated_at: Date | string;
}

export const followUpsOf = (q: Q, ticketIds: number[]): Promise<FollowUpRow[]> =>
  ticketIds.length ? q('approval_followups').whereIn('ticket_id', ticketIds) : Promise.resolve([]);

/** The follow-up row of a ticket, made on first sight with the link's sending time. */
export async function ensureFollowUp(q: Q, ticketId: number, linkSentAt: string, now: string): Promise<void> {
  await q('approval_followups')
    .insert({ ticket_id: ticketId, link_sent_at: linkSentAt, reminders_sent: 0, updated_at: now })
    .onConflict('ticket_id')
    .ignore();
}

/**
 * Claims a follow-up step with a conditional update on what was read (`expected`): of two workers
 * (or a worker and a web request) only one changes the row, and only that one sends anything.
 */
export async function claimFollowUp(
  q: Q,
  ticketId: number,
  expected: Partial<Record<keyof FollowUpRow, unknown>>,
  changes: Partial<Record<keyof FollowUpRow, unknown>>,
): Promise<boolean> {
  let query = q('approval_followups').where('ticket_id', ticketId);
  for (const [column, value] of Object.entries(expected))
    query = value === null ? query.whereNull(column) : query.where(column, value as string);
  return (await query.update(changes)) === 1;
}
