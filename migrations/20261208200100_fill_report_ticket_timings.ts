import type { Knex } from 'knex';

const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

const DECISION =
  "e.event_type = 'status_changed' AND e.from_status = 'pending_approval' AND e.to_status IN ('approved', 'rejected')";
const COLUMNS = `(ticket_id, requester_id, requested_at, status, decided_at, decided_by_id, decision, approved_at, fulfilled_at,
  reminders, escalations)`;

/**
 * The report rows of the tickets filed before the trigger existed, from their audit trail. PostgreSQL
 * reads the events once, grouped by ticket (a million tickets take seconds); SQLite, a subquery per
 * column (its databases are small).
 */
export async function up(knex: Knex): Promise<void> {
  if (isPostgres(knex)) {
    await knex.raw(`
      INSERT INTO report_ticket_timings ${COLUMNS}
      SELECT t.id, t.created_by_id, t.created_at, t.status, e.decided_at, e.decided_by_id, e.decision, e.approved_at,
        e.fulfilled_at, coalesce(e.reminders, 0), coalesce(e.escalations, 0)
      FROM tickets t LEFT JOIN (
        SELECT e.ticket_id,
          min(e.created_at) FILTER (WHERE ${DECISION}) AS decided_at,
          (array_agg(e.actor_user_id ORDER BY e.id) FILTER (WHERE ${DECISION}))[1] AS decided_by_id,
          (array_agg(e.to_status ORDER BY e.id) FILTER (WHERE ${DECISION}))[1] AS decision,
          min(e.created_at) FILTER (WHERE e.event_type = 'status_changed' AND e.to_status = 'approved') AS approved_at,
          min(e.created_at) FILTER (WHERE e.event_type = 'status_changed' AND e.to_status = 'fulfilled') AS fulfilled_at,
          count(*) FILTER (WHERE e.event_type = 'reminded') AS reminders,
          count(*) FILTER (WHERE e.event_type = 'escalated') AS escalations
        FROM ticket_events e GROUP BY e.ticket_id
      ) e ON e.ticket_id = t.id
      ON CONFLICT (ticket_id) DO NOTHING`);
    return;
  }
  const first = (where: string, column = 'e.created_at') =>
    `(SELECT ${column} FROM ticket_events e WHERE e.ticket_id = t.id AND e.event_type = 'status_changed' AND ${where} ORDER BY e.id LIMIT 1)`;
  const count = (type: string) => `(SELECT count(*) FROM ticket_events e WHERE e.ticket_id = t.id AND e.event_type = '${type}')`;
  await knex.raw(`
    INSERT OR IGNORE INTO report_ticket_timings ${COLUMNS}
    SELECT t.id, t.created_by_id, t.created_at, t.status,
      ${first(DECISION)}, ${first(DECISION, 'e.actor_user_id')}, ${first(DECISION, 'e.to_status')},
      ${first("e.to_status = 'approved'")}, ${first("e.to_status = 'fulfilled'")},
      ${count('reminded')}, ${count('escalated')}
    FROM tickets t`);
}

export async function down(): Promise<void> {
  // The rows go with the table (the previous migration's down).
}
