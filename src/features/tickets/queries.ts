import type { Knex } from 'knex';
import { type Db, prepared, type Trx } from '../../db/index.ts';
import type { ItemInput } from './schema.ts';
import type { Priority, Status, StoredStatus } from './states.ts';

export type Q = Db | Trx;

export interface TicketRow {
  id: number;
  created_by_id: number;
  assigned_to_id: number;
  status: StoredStatus;
  priority: Priority;
  location: string;
  notes: string | null;
  rejection_reason: string | null;
  approval_token_hash: string | null;
  approval_token_expires_at: Date | string | null;
  deleted_at: Date | string | null;
  deleted_by_id: number | null;
  status_before_delete: Status | null;
  /** Where the cable comes from (DESIGN.md §12); null only for rows written outside the app. */
  source_location_id: number | null;
  created_at: Date | string;
  updated_at: Date | string;
  created_by_username: string;
  assigned_to_username: string;
}

export interface ItemRow {
  id: number;
  ticket_id: number;
  position: number;
  cable_type: string;
  cable_length: string;
  cable_gauge: string | null;
  quantity: number;
  /** What the approver granted (0 drops the line); null until the request is approved. */
  approved_quantity: number | null;
  approval_note: string | null;
}

export interface EventRow {
  id: number;
  ticket_id: number;
  event_type: string;
  actor_user_id: number | null;
  actor_username: string | null;
  via: string | null;
  from_status: string | null;
  to_status: string | null;
  note: string | null;
  /** A decision made for someone else: 'delegate' (the assignee is away) or 'escalation'. */
  acting_as: string | null;
  on_behalf_of_id: number | null;
  on_behalf_of_username: string | null;
  created_at: Date | string;
}

const TICKET_COLUMNS = [
  't.id',
  't.created_by_id',
  't.assigned_to_id',
  't.status',
  't.priority',
  't.location',
  't.notes',
  't.rejection_reason',
  't.approval_token_hash',
  't.approval_token_expires_at',
  't.deleted_at',
  't.deleted_by_id',
  't.status_before_delete',
  't.source_location_id',
  't.created_at',
  't.updated_at',
];
/** The creator's and assignee's names, from the users joined by withPeople. */
export const PEOPLE_COLUMNS = ['c.username as created_by_username', 'a.username as assigned_to_username'];

/** `query` (tickets as `alias`) joined to its creator (c) and assignee (a). */
export const withPeople = (query: Knex.QueryBuilder, alias: string) =>
  query.join('users as c', 'c.id', `${alias}.created_by_id`).join('users as a', 'a.id', `${alias}.assigned_to_id`);

/** A ticket as lists show it: no review-link columns (a list never needs them; fewer dates to parse). */
export type ListRow = Omit<TicketRow, 'approval_token_hash' | 'approval_token_expires_at'>;
/** The list's own columns of tickets; the people's names are joined to the page (listTicketsWithItemsQuery). */
export const LIST_TICKET_COLUMNS = TICKET_COLUMNS.filter((c) => !c.startsWith('t.approval_token_'));
/** The same columns as an insert returns them (a new ticket as the API answers it). */
export const STORED_TICKET_COLUMNS = LIST_TICKET_COLUMNS.map((c) => c.slice('t.'.length));

export const ticketQuery = (q: Q, id: number) =>
  withPeople(q('tickets as t'), 't')
    .select(...TICKET_COLUMNS, ...PEOPLE_COLUMNS)
    .where('t.id', id)
    .first();
export const findTicket = (q: Q, id: number): Promise<TicketRow | undefined> => prepared(ticketQuery(q, id), 'ticket');

export const itemsQuery = (q: Q, ticketIds: number[]) =>
  q('ticket_items').whereIn('ticket_id', ticketIds).orderBy(['ticket_id', 'position']);
export const itemsFor = (q: Q, ticketIds: number[]): Promise<ItemRow[]> =>
  ticketIds.length ? prepared(itemsQuery(q, ticketIds), `items_of_${ticketIds.length}`) : Promise.resolve([]);

export const eventsQuery = (q: Q, ticketId: number) =>
  q('ticket_events as e')
    .leftJoin('users as u', 'u.id', 'e.actor_user_id')
    .leftJoin('users as b', 'b.id', 'e.on_behalf_of_id')
    .select('e.*', 'u.username as actor_username', 'b.username as on_behalf_of_username')
    .where('e.ticket_id', ticketId)
    .orderBy('e.id');
export const eventsFor = (q: Q, ticketId: number): Promise<EventRow[]> => prepared(eventsQuery(q, ticketId), 'ticket_events');

export const searchText = (
  location: string,
  notes: string | null,
  items: { cable_type: string; cable_length: string; cable_gauge?: string | null }[],
) =>
  [location, notes ?? '', ...items.flatMap((i) => [i.cable_type, i.cable_length, i.cable_gauge ?? ''])].join(' ').toLowerCase();

/**
 * Inserts a ticket's items in their order; returns them as stored. Items are written only together
 * with an insert or update of their ticket, in one transaction (create, edit): a list's version counts
 * on it (versionedListQuery).
 */
export async function insertItems(q: Q, ticketId: number, items: ItemInput[]): Promise<ItemRow[]> {
  const rows: ItemRow[] = await prepared(
    q('ticket_items')
      .insert(
        items.map((item, position) => ({
          ticket_id: ticketId,
          position,
          cable_type: item.cable_type,
          cable_length: item.cable_length,
          cable_gauge: item.cable_gauge ?? null,
          quantity: item.quantity,
        })),
      )
      .returning([
        'id',
        'ticket_id',
        'position',
        'cable_type',
        'cable_length',
        'cable_gauge',
        'quantity',
        'approved_quantity',
        'approval_note',
      ]),
    'ticket_items_insert',
  );
  return rows.sort((a, b) => a.position - b.position);
}

/** The approver's quantity and note per item (a decision's transaction; the ticket row is already moved). */
export async function setApprovedQuantities(
  q: Q,
  ticketId: number,
  lines: { id: number; approved_quantity: number; approval_note: string | null }[],
): Promise<void> {
  for (const line of lines) {
    await q('ticket_items')
      .where({ id: line.id, ticket_id: ticketId })
      .update({ approved_quantity: line.approved_quantity, approval_note: line.approval_note });
  }
}

/** Requests waiting for approval, by id from `afterId`, narrowed as `f` says (follow-ups: reminders, offers). */
export const pendingTicketsQuery = (
  q: Q,
  f: { linkExpiresBefore?: string; createdBefore?: string; assignedTo?: number[]; afterId: number; limit: number },
) =>
  withPeople(q('tickets as t'), 't')
    .select(...TICKET_COLUMNS, ...PEOPLE_COLUMNS)
    .where('t.status', 'pending_approval')
    .andWhere('t.id', '>', f.afterId)
    .andWhere((w) => {
      if (f.linkExpiresBefore) w.orWhere('t.approval_token_expires_at', '<=', f.linkExpiresBefore);
      if (f.createdBefore) w.orWhere('t.created_at', '<=', f.createdBefore);
      if (f.assignedTo?.length) w.orWhereIn('t.assigned_to_id', f.assignedTo);
      if (!f.linkExpiresBefore && !f.createdBefore && !f.assignedTo?.length) w.whereRaw('1 = 0');
    })
    .orderBy('t.id')
    .limit(f.limit) as Promise<TicketRow[]>;

/** A ticket's items, deleted only with an update of the ticket (see insertItems). */
export const deleteItems = (q: Q, ticketId: number) => q('ticket_items').where({ ticket_id: ticketId }).delete();

export interface NewEvent {
  ticket_id: number;
  event_type:
    | 'created'
    | 'edited'
    | 'status_changed'
    | 'deleted'
    | 'restored'
    | 'link_refused'
    | 'sms_refused'
    | 'email_refused'
    | 'link_resent'
    | 'offered'
    | 'reminded'
    | 'escalated';
  actor_user_id: number | null;
  via?: 'review link' | 'api' | 'sms' | 'email' | null;
  acting_as?: 'delegate' | 'escalation' | null;
  on_behalf_of_id?: number | null;
  from_status?: string | null;
  to_status?: string | null;
  note?: string | null;
  created_at: string;
}

export async function insertEvent(q: Q, event: NewEvent): Promise<void> {
  await prepared(
    q('ticket_events').insert({ via: null, from_status: null, to_status: null, note: null, ...event }),
    'ticket_event_insert',
  );
}

/** Moves the status counters kept for the dashboard (same transaction as the change). */
export async function moveCount(q: Q, from: StoredStatus | null, to: StoredStatus | null): Promise<void> {
  if (from === to) return;
  // Rows are always locked in one order (by status name): a delete (x -> deleted) and a restore
  // (deleted -> x) committing at once would otherwise each hold the row the other waits for.
  const moves: [StoredStatus, number][] = [];
  if (from) moves.push([from, -1]);
  if (to) moves.push([to, 1]);
  moves.sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [status, delta] of moves)
    await prepared(q('ticket_counts').where({ status }).increment('n', delta), 'ticket_count_move');
}

export const statusCounts = (q: Q): Promise<{ status: StoredStatus; n: number | string }[]> =>
  q('ticket_counts').select('status', 'n');
