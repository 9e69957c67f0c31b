import { toIso } from '../../db/index.ts';
import type { Cell } from '../../lib/csv.ts';
import type { MadeCut, Offcut } from '../inventory/service.ts';
import type { EventRow, ItemRow, ListRow } from './queries.ts';
import type { TicketCutJson, TicketJson } from './schema.ts';
import type { ExportRow } from './search.ts';
import type { StoredStatus } from './states.ts';

/**
 * Ticket JSON (DESIGN.md §9): items, the first item's fields at the top, people as {id, username}, never a token.
 * One ticket also carries its cuts from reels per item and the offcuts waiting for keep-or-scrap (`reels`).
 */
export function presentTicket(
  ticket: ListRow,
  items: ItemRow[],
  events?: EventRow[],
  reels?: { cuts: MadeCut[]; offcuts: Offcut[] },
): TicketJson {
  const first = items[0];
  return {
    id: ticket.id,
    status: ticket.status,
    priority: ticket.priority,
    location: ticket.location,
    notes: ticket.notes,
    rejection_reason: ticket.rejection_reason,
    cable_type: first?.cable_type ?? null,
    cable_length: first?.cable_length ?? null,
    cable_gauge: first?.cable_gauge ?? null,
    quantity: first?.quantity ?? null,
    items: reels ? items.map((i) => ({ ...presentItem(i), cuts: cutsOfItem(reels.cuts, i.id) })) : items.map(presentItem),
    created_by_id: ticket.created_by_id,
    assigned_to_id: ticket.assigned_to_id,
    created_by: { id: ticket.created_by_id, username: ticket.created_by_username },
    assigned_to: { id: ticket.assigned_to_id, username: ticket.assigned_to_username },
    created_at: toIso(ticket.created_at) as string,
    updated_at: toIso(ticket.updated_at) as string,
    deleted_at: toIso(ticket.deleted_at),
    deleted_by_id: ticket.deleted_by_id,
    source_location_id:
      ticket.source_location_id === null || ticket.source_location_id === undefined ? null : Number(ticket.source_location_id),
    ...(events ? { events: events.map(presentEvent) } : {}),
    ...(reels
      ? { offcuts: reels.offcuts.map((o) => ({ reel_code: o.reel_code, remaining: o.remaining, remaining_mm: o.remaining_mm })) }
      : {}),
  };
}

const cutsOfItem = (cuts: MadeCut[], itemId: number): TicketCutJson[] =>
  cuts.filter((c) => c.item_id === itemId).map((c) => ({ reel_code: c.reel_code, piece: c.piece, length: c.length, mm: c.mm }));

/** An item: what was asked (`quantity`) and, once approved, what was granted (`approved_quantity`, 0 = dropped). */
export const presentItem = (item: ItemRow): TicketJson['items'][number] => ({
  id: item.id,
  cable_type: item.cable_type,
  cable_length: item.cable_length,
  cable_gauge: item.cable_gauge,
  quantity: item.quantity,
  approved_quantity: item.approved_quantity ?? null,
  approval_note: item.approval_note ?? null,
});

export const presentEvent = (event: EventRow): NonNullable<TicketJson['events']>[number] => ({
  id: event.id,
  type: event.event_type,
  actor: event.actor_user_id ? { id: event.actor_user_id, username: event.actor_username ?? 'deleted user' } : null,
  via: event.via as NonNullable<TicketJson['events']>[number]['via'],
  from_status: event.from_status as StoredStatus | null,
  to_status: event.to_status as StoredStatus | null,
  note: event.note,
  acting_as: (event.acting_as ?? null) as NonNullable<TicketJson['events']>[number]['acting_as'],
  on_behalf_of: event.on_behalf_of_id
    ? { id: event.on_behalf_of_id, username: event.on_behalf_of_username ?? 'deleted user' }
    : null,
  created_at: toIso(event.created_at) as string,
});

/** The list's CSV (/tickets.csv): one line per item, the ticket's fields repeated; times in UTC. */
export const TICKETS_CSV_HEADER = [
  'id',
  'created_at_utc',
  'updated_at_utc',
  'status',
  'priority',
  'requester',
  'assignee',
  'location',
  'item',
  'cable_type',
  'cable_length',
  'cable_gauge',
  'quantity',
  'approved_quantity',
  'notes',
];

export const ticketCsvCells = (r: ExportRow): Cell[] => [
  r.id,
  toIso(r.created_at),
  toIso(r.updated_at),
  r.status,
  r.priority,
  r.created_by_username,
  r.assigned_to_username,
  r.location,
  r.item_position === null ? null : r.item_position + 1,
  r.item_cable_type,
  r.item_cable_length,
  r.item_cable_gauge,
  r.item_quantity,
  r.item_approved_quantity,
  r.notes,
];
