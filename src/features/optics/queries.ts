import type { Db, Trx } from '../../db/index.ts';
import type { OpticsAction, OpticsStatus } from './states.ts';

type Q = Db | Trx;

export interface PartRow {
  id: number;
  part_number: string;
  part_key: string;
  created_at: Date | string;
}

export interface OpticsRequestRow {
  id: number;
  part_number: string;
  selected_part: string;
  other_part: string | null;
  quantity: number;
  requester_name: string;
  status: OpticsStatus;
  admin_note: string | null;
  requested_by_id: number;
  requested_by_username: string;
  decided_by_id: number | null;
  decided_by_username: string | null;
  decided_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

export interface OpticsEventRow {
  id: number;
  optics_request_id: number;
  action: 'submitted' | OpticsAction;
  actor_user_id: number | null;
  actor_username: string | null;
  from_status: OpticsStatus | null;
  to_status: OpticsStatus;
  note: string | null;
  created_at: Date | string;
}

// ---- parts --------------------------------------------------------------------------------------

/** In the order they were added: the migration seeds them slowest first. */
export const listParts = (q: Q): Promise<PartRow[]> => q('optics_parts').select('*').orderBy('id');

export async function insertPart(q: Q, partNumber: string, now: string): Promise<void> {
  await q('optics_parts').insert({ part_number: partNumber, part_key: partNumber.toLowerCase(), created_at: now });
}

/** Rows removed (0 when no such part). */
export const deletePart = (q: Q, partNumber: string): Promise<number> =>
  q('optics_parts').where({ part_key: partNumber.trim().toLowerCase() }).delete();

// ---- requests -----------------------------------------------------------------------------------

const REQUEST_COLUMNS = [
  'r.id',
  'r.part_number',
  'r.selected_part',
  'r.other_part',
  'r.quantity',
  'r.requester_name',
  'r.status',
  'r.admin_note',
  'r.requested_by_id',
  'u.username as requested_by_username',
  'r.decided_by_id',
  'd.username as decided_by_username',
  'r.decided_at',
  'r.created_at',
  'r.updated_at',
];

const requestsWithPeople = (q: Q) =>
  q('optics_requests as r')
    .join('users as u', 'u.id', 'r.requested_by_id')
    .leftJoin('users as d', 'd.id', 'r.decided_by_id')
    .select(REQUEST_COLUMNS);

export const findRequest = (q: Q, id: number): Promise<OpticsRequestRow | undefined> =>
  requestsWithPeople(q).where('r.id', id).first();

export interface ListFilter {
  /** Only this user's requests (ordinary users); undefined for admins, who see all. */
  requestedById?: number;
  status?: OpticsStatus;
  includeArchived: boolean;
  cursor?: number;
  limit: number;
}

/** Newest first by id (keyset), one row more than a page to know whether another exists. */
export function listRequests(q: Q, f: ListFilter): Promise<OpticsRequestRow[]> {
  const query = requestsWithPeople(q)
    .orderBy('r.id', 'desc')
    .limit(f.limit + 1);
  if (f.requestedById !== undefined) query.where('r.requested_by_id', f.requestedById);
  if (f.status) query.where('r.status', f.status);
  else if (!f.includeArchived) query.whereNot('r.status', 'archived');
  if (f.cursor) query.where('r.id', '<', f.cursor);
  return query;
}

export interface NewRequest {
  part_number: string;
  selected_part: string;
  other_part: string | null;
  quantity: number;
  requester_name: string;
  requested_by_id: number;
}

export async function insertRequest(q: Q, request: NewRequest, now: string): Promise<number> {
  const [row] = await q('optics_requests')
    .insert({ ...request, status: 'pending', admin_note: null, created_at: now, updated_at: now })
    .returning('id');
  return Number((row as { id: number }).id);
}

/**
 * Moves a request only if it still has the status it was read with: of two admins acting at once,
 * exactly one changes the row (1) and the other gets 0.
 */
export const moveRequest = (q: Q, id: number, from: OpticsStatus, columns: Record<string, unknown>): Promise<number> =>
  q('optics_requests').where({ id, status: from }).update(columns);

/** The name a user typed last time, to prefill the form. */
export async function lastRequesterName(q: Q, userId: number): Promise<string | undefined> {
  const row = await q('optics_requests')
    .select('requester_name')
    .where({ requested_by_id: userId })
    .orderBy('id', 'desc')
    .first();
  return row?.requester_name;
}

// ---- audit --------------------------------------------------------------------------------------

export interface NewEvent {
  optics_request_id: number;
  action: OpticsEventRow['action'];
  actor_user_id: number;
  from_status: OpticsStatus | null;
  to_status: OpticsStatus;
  note: string | null;
  created_at: string;
}

export async function insertEvent(q: Q, event: NewEvent): Promise<void> {
  await q('optics_request_events').insert(event);
}

export const eventsFor = (q: Q, requestId: number): Promise<OpticsEventRow[]> =>
  q('optics_request_events as e')
    .leftJoin('users as u', 'u.id', 'e.actor_user_id')
    .select('e.*', 'u.username as actor_username')
    .where('e.optics_request_id', requestId)
    .orderBy('e.id');
