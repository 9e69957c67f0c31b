import { toIso } from '../../db/index.ts';
import type { OpticsEventRow, OpticsRequestRow } from './queries.ts';
import type { OpticsEventJson, OpticsRequestJson } from './schema.ts';

/** Optics request JSON (issue #6): exactly these fields, people as {id, username}. */
export function presentOpticsRequest(row: OpticsRequestRow): OpticsRequestJson {
  return {
    id: row.id,
    part_number: row.part_number,
    selected_part: row.selected_part,
    other_part: row.other_part,
    quantity: row.quantity,
    requester_name: row.requester_name,
    status: row.status,
    admin_note: row.admin_note,
    requested_by: { id: row.requested_by_id, username: row.requested_by_username },
    decided_by:
      row.decided_by_id === null ? null : { id: row.decided_by_id, username: row.decided_by_username ?? 'deleted user' },
    decided_at: toIso(row.decided_at),
    created_at: toIso(row.created_at) as string,
    updated_at: toIso(row.updated_at) as string,
  };
}
export type { OpticsRequestJson };

export const presentOpticsEvent = (event: OpticsEventRow): OpticsEventJson => ({
  id: event.id,
  action: event.action,
  actor: event.actor_user_id === null ? null : { id: event.actor_user_id, username: event.actor_username ?? 'deleted user' },
  from_status: event.from_status,
  to_status: event.to_status,
  note: event.note,
  created_at: toIso(event.created_at) as string,
});
