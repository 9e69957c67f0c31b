import type { Knex } from 'knex';

/**
 * report_ticket_timings gets each request's measures as numbers: decision_hours (filing to first
 * decision) and lead_hours (approval to fulfilment), null until both ends exist. The percentiles sort
 * these columns instead of computing an interval per row from two timestamps.
 *
 * They are generated columns: the database computes them from the row's own timestamps on every
 * write (the trigger's, a fill's, hand-typed SQL's), in the same statement, so they cannot disagree
 * with the timestamps, and adding them fills the existing rows. PostgreSQL stores them (the ALTER
 * rewrites the table once: seconds at a million rows). SQLite can only add a VIRTUAL generated column
 * to a table that exists (ALTER TABLE cannot add a STORED one): it computes the value when the row is
 * read, as the reports did before, which is fine at the sizes SQLite serves.
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

const COLUMNS = [
  ['decision_hours', 'requested_at', 'decided_at'],
  ['lead_hours', 'approved_at', 'fulfilled_at'],
] as const;

export async function up(knex: Knex): Promise<void> {
  for (const [column, from, to] of COLUMNS) {
    await knex.raw(
      isPostgres(knex)
        ? `ALTER TABLE report_ticket_timings ADD COLUMN ${column} double precision
             GENERATED ALWAYS AS ((extract(epoch from (${to} - ${from})) / 3600.0)::double precision) STORED`
        : `ALTER TABLE report_ticket_timings ADD COLUMN ${column} REAL
             GENERATED ALWAYS AS ((julianday(${to}) - julianday(${from})) * 24.0) VIRTUAL`,
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  // Plain ALTER TABLE ... DROP COLUMN on both (Knex's SQLite dropColumn would copy the table).
  for (const [column] of COLUMNS) await knex.raw(`ALTER TABLE report_ticket_timings DROP COLUMN ${column}`);
}
