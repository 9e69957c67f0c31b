import type { Db, Trx } from '../../db/index.ts';
import type { ItemInput } from './schema.ts';
import type { Priority, Status, StoredStatus } from './states.ts';

type Q = Db | Trx;

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
  't.created_at',
  't.updated_at',
  'c.username as created_by_username',
  'a.username as assigned_to_username',
];

const ticketsWithPeople = (q: Q) =>
  q('tickets as t')
    .join('users as c', 'c.id', 't.created_by_id')
    .join('users as a', 'a.id', 't.assigned_to_id')
    .select(TICKET_COLUMNS);

export const findTicket = (q: Q, id: number): Promise<TicketRow | undefined> => ticketsWithPeople(q).where('t.id', id).first();

export const itemsFor = (q: Q, ticketIds: number[]): Promise<ItemRow[]> =>
  ticketIds.length ? q('ticket_items').whereIn('ticket_id', ticketIds).orderBy(['ticket_id', 'position']) : Promise.resolve([]);

export const eventsFor = (q: Q, ticketId: number): Promise<EventRow[]> =>
  q('ticket_events as e')
    .leftJoin('users as u', 'u.id', 'e.actor_user_id')
    .select('e.*', 'u.username as actor_username')
    .where('e.ticket_id', ticketId)
    .orderBy('e.id');

/** Escapes LIKE wildcards so a search for "50%" means the characters. */
const likePattern = (q: string) => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export interface ListFilter {
  viewerId: number;
  filter: 'all' | 'mine' | 'assigned';
  status?: Status;
  q?: string;
  includeDeleted: boolean;
  cursor?: number;
  limit: number;
}

/** Newest first, by id (keyset): one page plus one row to know whether another page exists. */
export function listTickets(q: Q, f: ListFilter): Promise<TicketRow[]> {
  const query = ticketsWithPeople(q)
    .orderBy('t.id', 'desc')
    .limit(f.limit + 1);
  if (f.filter === 'mine') query.where('t.created_by_id', f.viewerId);
  if (f.filter === 'assigned') query.where('t.assigned_to_id', f.viewerId);
  if (f.status) query.where('t.status', f.status);
  else if (!f.includeDeleted) query.whereNot('t.status', 'deleted');
  if (f.q) query.whereRaw("t.search_text like ? escape '\\'", [likePattern(f.q)]);
  if (f.cursor) query.where('t.id', '<', f.cursor);
  return query;
}

export const searchText = (
  location: string,
  notes: string | null,
  items: { cable_type: string; cable_length: string; cable_gauge?: string | null }[],
) =>
  [location, notes ?? '', ...items.flatMap((i) => [i.cable_type, i.cable_length, i.cable_gauge ?? ''])].join(' ').toLowerCase();

export async function insertItems(q: Q, ticketId: number, items: ItemInput[]): Promise<void> {
  await q('ticket_items').insert(
    items.map((item, position) => ({
      ticket_id: ticketId,
      position,
      cable_type: item.cable_type,
      cable_length: item.cable_length,
      cable_gauge: item.cable_gauge ?? null,
      quantity: item.quantity,
    })),
  );
}

export const deleteItems = (q: Q, ticketId: number) => q('ticket_items').where({ ticket_id: ticketId }).delete();

export interface NewEvent {
  ticket_id: number;
  event_type: 'created' | 'edited' | 'status_changed' | 'deleted' | 'restored' | 'link_refused' | 'sms_refused';
  actor_user_id: number | null;
  via?: 'review link' | 'api' | 'sms' | null;
  from_status?: string | null;
  to_status?: string | null;
  note?: string | null;
  created_at: string;
}

export async function insertEvent(q: Q, event: NewEvent): Promise<void> {
  await q('ticket_events').insert({ via: null, from_status: null, to_status: null, note: null, ...event });
}

/** Moves the status counters kept for the dashboard (same transaction as the change). */
export async function moveCount(q: Q, from: StoredStatus | null, to: StoredStatus | null): Promise<void> {
  if (from === to) return;
  if (from) await q('ticket_counts').where({ status: from }).decrement('n', 1);
  if (to) await q('ticket_counts').where({ status: to }).increment('n', 1);
}

export const statusCounts = (q: Q): Promise<{ status: StoredStatus; n: number | string }[]> =>
  q('ticket_counts').select('status', 'n');

export const userExists = async (q: Q, id: number): Promise<boolean> => Boolean(await q('users').where({ id }).first('id'));

/** A user's phone number as stored (E.164), or null: SMS replies must come from the assignee's own. */
export const phoneOf = async (q: Q, id: number): Promise<string | null> =>
  ((await q('users').where({ id }).first('phone')) as { phone: string | null } | undefined)?.phone ?? null;
