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
