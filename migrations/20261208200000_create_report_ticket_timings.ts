import type { Knex } from 'knex';

/**
 * Reports (DESIGN.md §17) read one narrow row per request instead of its audit trail: when it was
 * filed, first decided (and by whom, how), approved and fulfilled, its status, and how many reminders
 * and escalations it took. A trigger on ticket_events keeps the row, so it is written in the same
 * transaction as every event, whichever code path (or hand-typed SQL) writes the event. Rows of purged
 * tickets go with them. The data of tickets filed before this migration is the next migration's.
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

/** The same assignments on both databases (booleans as 0/1 on SQLite, CASE on PostgreSQL). */
const DECISION = `NEW.event_type = 'status_changed' AND NEW.from_status = 'pending_approval' AND NEW.to_status IN ('approved', 'rejected')`;
const UPDATE = `UPDATE report_ticket_timings SET
    status = coalesce(NEW.to_status, status),
    decided_at = CASE WHEN decided_at IS NULL AND ${DECISION} THEN NEW.created_at ELSE decided_at END,
    decided_by_id = CASE WHEN decided_at IS NULL AND ${DECISION} THEN NEW.actor_user_id ELSE decided_by_id END,
    decision = CASE WHEN decided_at IS NULL AND ${DECISION} THEN NEW.to_status ELSE decision END,
    approved_at = CASE WHEN approved_at IS NULL AND NEW.event_type = 'status_changed' AND NEW.to_status = 'approved'
      THEN NEW.created_at ELSE approved_at END,
    fulfilled_at = CASE WHEN fulfilled_at IS NULL AND NEW.event_type = 'status_changed' AND NEW.to_status = 'fulfilled'
      THEN NEW.created_at ELSE fulfilled_at END,
    reminders = reminders + CASE WHEN NEW.event_type = 'reminded' THEN 1 ELSE 0 END,
    escalations = escalations + CASE WHEN NEW.event_type = 'escalated' THEN 1 ELSE 0 END
  WHERE ticket_id = NEW.ticket_id`;
const CREATED = `INSERT INTO report_ticket_timings (ticket_id, requester_id, requested_at, status)
  SELECT t.id, t.created_by_id, NEW.created_at, coalesce(NEW.to_status, 'pending_approval') FROM tickets t WHERE t.id = NEW.ticket_id`;
/** Events that change nothing here (edits, notes, resent links) do not touch the row. */
const RELEVANT = `NEW.event_type <> 'created' AND (NEW.to_status IS NOT NULL OR NEW.event_type IN ('reminded', 'escalated'))`;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('report_ticket_timings', (t) => {
    t.integer('ticket_id').primary().references('id').inTable('tickets').onDelete('CASCADE');
    t.integer('requester_id').notNullable();
    t.timestamp('requested_at', { useTz: true }).notNullable();
    t.string('status', 20).notNullable();
    t.timestamp('decided_at', { useTz: true }).nullable();
    // No foreign key: a report keeps counting a decision after its approver's account is gone.
    t.integer('decided_by_id').nullable();
    t.string('decision', 20).nullable();
    t.timestamp('approved_at', { useTz: true }).nullable();
    t.timestamp('fulfilled_at', { useTz: true }).nullable();
    t.integer('reminders').notNullable().defaultTo(0);
    t.integer('escalations').notNullable().defaultTo(0);
    // Every report reads a range of filing times; a person's own reports, theirs.
    t.index(['requested_at'], 'report_ticket_timings_requested');
    t.index(['requester_id', 'requested_at'], 'report_ticket_timings_requester');
  });
  if (isPostgres(knex)) {
    await knex.raw(`
      CREATE FUNCTION report_ticket_timings_track() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.event_type = 'created' THEN
          ${CREATED} ON CONFLICT (ticket_id) DO NOTHING;
        ELSIF ${RELEVANT} THEN
          ${UPDATE};
        END IF;
        RETURN NULL;
      END;
      $$`);
    await knex.raw(`
      CREATE TRIGGER report_ticket_timings_track AFTER INSERT ON ticket_events
      FOR EACH ROW EXECUTE FUNCTION report_ticket_timings_track()`);
    return;
  }
  await knex.raw(`
    CREATE TRIGGER report_ticket_timings_created AFTER INSERT ON ticket_events WHEN NEW.event_type = 'created'
    BEGIN ${CREATED.replace('INSERT INTO', 'INSERT OR IGNORE INTO')}; END`);
  await knex.raw(`
    CREATE TRIGGER report_ticket_timings_track AFTER INSERT ON ticket_events WHEN ${RELEVANT}
    BEGIN ${UPDATE}; END`);
}

export async function down(knex: Knex): Promise<void> {
  if (isPostgres(knex)) {
    await knex.raw('DROP TRIGGER IF EXISTS report_ticket_timings_track ON ticket_events');
    await knex.raw('DROP FUNCTION IF EXISTS report_ticket_timings_track()');
  } else {
    await knex.raw('DROP TRIGGER IF EXISTS report_ticket_timings_created');
    await knex.raw('DROP TRIGGER IF EXISTS report_ticket_timings_track');
  }
  await knex.schema.dropTable('report_ticket_timings');
}
