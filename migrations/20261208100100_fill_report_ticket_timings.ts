import type { Knex } from 'knex';

/** The report rows of the tickets filed before the trigger existed, from their audit trail. */
export async function up(knex: Knex): Promise<void> {
  const first = (where: string, column = 'e.created_at') =>
    `(SELECT ${column} FROM ticket_events e WHERE e.ticket_id = t.id AND e.event_type = 'status_changed' AND ${where} ORDER BY e.id LIMIT 1)`;
  const decision = "e.from_status = 'pending_approval' AND e.to_status IN ('approved', 'rejected')";
  const count = (type: string) => `(SELECT count(*) FROM ticket_events e WHERE e.ticket_id = t.id AND e.event_type = '${type}')`;
  await knex.raw(`
    INSERT INTO report_ticket_timings
      (ticket_id, requester_id, requested_at, status, decided_at, decided_by_id, decision, approved_at, fulfilled_at, reminders, escalations)
    SELECT t.id, t.created_by_id, t.created_at, t.status,
      ${first(decision)}, ${first(decision, 'e.actor_user_id')}, ${first(decision, 'e.to_status')},
      ${first("e.to_status = 'approved'")}, ${first("e.to_status = 'fulfilled'")},
      ${count('reminded')}, ${count('escalated')}
    FROM tickets t
    WHERE NOT EXISTS (SELECT 1 FROM report_ticket_timings r WHERE r.ticket_id = t.id)`);
}

export async function down(): Promise<void> {
  // The rows go with the table (the previous migration's down).
}
