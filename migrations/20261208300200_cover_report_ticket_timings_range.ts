import type { Knex } from 'knex';

/**
 * PostgreSQL: the index on filing time carries what the admin's ticket reports read (status, approver,
 * hours, follow-ups), so a range is read from the index alone (an index-only scan, once autovacuum has
 * marked the pages all-visible) instead of visiting each row: about a fifth less time for half a year
 * at a million requests (measured alternately, 365 against 447 ms; for a year the sorts dominate and it
 * makes no measurable difference). The price: a status or decision change now touches this index too
 * (no heap-only update of the row), a few times in a request's life. It replaces the plain index on
 * requested_at (same leading column, so that one would never be chosen again). SQLite has no INCLUDE
 * and serves small databases: its index stays. Down puts the plain index back.
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

export async function up(knex: Knex): Promise<void> {
  if (!isPostgres(knex)) return;
  await knex.raw(`CREATE INDEX report_ticket_timings_requested_covering ON report_ticket_timings (requested_at)
    INCLUDE (status, decided_by_id, decision_hours, lead_hours, reminders, escalations)`);
  await knex.raw('DROP INDEX report_ticket_timings_requested');
}

export async function down(knex: Knex): Promise<void> {
  if (!isPostgres(knex)) return;
  await knex.raw('CREATE INDEX report_ticket_timings_requested ON report_ticket_timings (requested_at)');
  await knex.raw('DROP INDEX report_ticket_timings_requested_covering');
}
