import type { Db } from '../../src/db/index.ts';
import { searchText } from '../../src/features/tickets/queries.ts';
import type { Client } from './client.ts';

export const PATHS: Record<string, string[]> = {
  pending_approval: [],
  approved: ['approved'],
  rejected: ['rejected'],
  in_progress: ['approved', 'in_progress'],
  fulfilled: ['approved', 'in_progress', 'fulfilled'],
  closed: ['approved', 'closed'],
};

export interface TicketSpec {
  assigned_to_id: number;
  location?: string;
  notes?: string;
  priority?: string;
  items?: { cable_type: string; cable_length: string; cable_gauge?: string; quantity?: number }[];
}

/** Creates a ticket through the API and returns its JSON. */
export async function createTicket(client: Client, spec: TicketSpec) {
  const res = await client.send('POST', '/api/tickets', {
    location: 'Building A, room 101',
    items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 2 }],
    ...spec,
  });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
  return res.json.ticket;
}

/** Moves a ticket along the legal path to `status`, as `actor` (the assignee or an admin). */
export async function driveTo(actor: Client, id: number, status: string): Promise<void> {
  for (const step of PATHS[status] ?? []) {
    const res = await actor.send('PATCH', `/api/tickets/${id}`, { status: step });
    if (res.status !== 200) throw new Error(`move to ${step} failed: ${res.status} ${res.text}`);
  }
}

export interface TicketRowSpec {
  createdBy: number;
  assignedTo: number;
  location: string;
  status?: string;
  /** An id of the test's choosing (bump the id sequence after, on PostgreSQL). */
  id?: number;
}

/**
 * A ticket row as the app stores one (its search text; no items, events or counters), for tests that
 * need many tickets at once. A deleted one is deleted by its creator, from pending approval.
 */
export function ticketRow({ createdBy, assignedTo, location, status = 'pending_approval', id }: TicketRowSpec) {
  const now = new Date().toISOString();
  return {
    ...(id ? { id } : {}),
    created_by_id: createdBy,
    assigned_to_id: assignedTo,
    status,
    priority: 'medium',
    location,
    search_text: searchText(location, null, []),
    created_at: now,
    updated_at: now,
    ...(status === 'deleted' ? { deleted_at: now, deleted_by_id: createdBy, status_before_delete: 'pending_approval' } : {}),
  };
}

/** Inserts ticketRow rows in batches of 500; the stored id, location and status of each, in order. */
export async function insertTicketRows(
  db: Db,
  rows: ReturnType<typeof ticketRow>[],
): Promise<{ id: number; location: string; status: string }[]> {
  const stored: { id: number; location: string; status: string }[] = [];
  for (let i = 0; i < rows.length; i += 500) {
    stored.push(...((await db('tickets').insert(rows.slice(i, i + 500), ['id', 'location', 'status'])) as typeof stored));
  }
  return stored;
}

/**
 * A ticket's own JSON (GET /api/tickets/:id) as a list or a create shows it: without the items' `cuts`
 * (one ticket's only), which must be none (nothing was cut).
 */
export function withoutCuts<T extends { items: { cuts?: unknown[] }[] }>(ticket: T): T {
  if (!ticket.items.every((i) => Array.isArray(i.cuts) && i.cuts.length === 0)) throw new Error('unexpected cuts');
  return { ...ticket, items: ticket.items.map(({ cuts: _cuts, ...item }) => item) };
}
