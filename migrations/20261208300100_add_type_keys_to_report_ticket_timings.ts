import type { Knex } from 'knex';

/**
 * report_ticket_timings.type_keys: the cable types of a request's items, lower-cased and trimmed
 * (as the reports' cable-type filter compares them), each between two unit separators (char 31):
 * "\x1fcat6\x1fcat5e\x1f". The filter becomes a test on the row the date range already reads
 * (`\x1fcat6\x1f` in type_keys) instead of a lookup in ticket_items per request.
 *
 * Why a delimited text column and not a child table (ticket_id, type_key) or an array: every report
 * reads a range of filing times, and that range (the requested_at index) is what narrows the rows; a
 * cable type keeps a good share of them, so an index on the type would not be used better than the
 * range, while a child table costs a join (or a semi-join over all of that type's requests) and an
 * array would be PostgreSQL only. A substring test works the same on both databases and costs nothing
 * next to reading the row. The separator is a control character, which the app refuses in a cable
 * type, so one type cannot be read as part of another.
 *
 * Kept by triggers in the same transaction as the writes: on ticket_items (a request's items are
 * inserted, deleted or their cable type changed: the row's keys are recomputed from the items) and
 * on report_ticket_timings itself (a new row takes its request's keys, whether the items were written
 * before the 'created' event or a fill inserts it). Existing rows are filled here.
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

/** The keys of one request's items (null when it has none), from ticket_items. */
const keysOf = (pg: boolean, ticketId: string) =>
  pg
    ? `(SELECT chr(31) || string_agg(DISTINCT lower(trim(i.cable_type)), chr(31) ORDER BY lower(trim(i.cable_type))) || chr(31)
        FROM ticket_items i WHERE i.ticket_id = ${ticketId})`
    : `(SELECT char(31) || group_concat(k, char(31)) || char(31)
        FROM (SELECT DISTINCT lower(trim(i.cable_type)) AS k FROM ticket_items i WHERE i.ticket_id = ${ticketId} ORDER BY k))`;

export async function up(knex: Knex): Promise<void> {
  const pg = isPostgres(knex);
  await knex.schema.alterTable('report_ticket_timings', (t) => {
    t.text('type_keys').nullable();
  });
  if (pg) {
    // A new row takes its keys before it is written (no second version of the row).
    await knex.raw(`
      CREATE FUNCTION report_ticket_timings_types_new() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.type_keys := ${keysOf(true, 'NEW.ticket_id')};
        RETURN NEW;
      END;
      $$`);
    await knex.raw(`
      CREATE TRIGGER report_ticket_timings_types_new BEFORE INSERT ON report_ticket_timings
      FOR EACH ROW EXECUTE FUNCTION report_ticket_timings_types_new()`);
    await knex.raw(`
      CREATE FUNCTION report_ticket_timings_types_items() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
          UPDATE report_ticket_timings SET type_keys = ${keysOf(true, 'OLD.ticket_id')} WHERE ticket_id = OLD.ticket_id;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
          UPDATE report_ticket_timings SET type_keys = ${keysOf(true, 'NEW.ticket_id')} WHERE ticket_id = NEW.ticket_id;
        END IF;
        RETURN NULL;
      END;
      $$`);
    await knex.raw(`
      CREATE TRIGGER report_ticket_timings_types_items AFTER INSERT OR DELETE OR UPDATE OF cable_type, ticket_id ON ticket_items
      FOR EACH ROW EXECUTE FUNCTION report_ticket_timings_types_items()`);
    // Existing rows: the items read once, grouped by request.
    await knex.raw(`
      UPDATE report_ticket_timings r SET type_keys = k.keys
      FROM (
        SELECT i.ticket_id,
          chr(31) || string_agg(DISTINCT lower(trim(i.cable_type)), chr(31) ORDER BY lower(trim(i.cable_type))) || chr(31) AS keys
        FROM ticket_items i GROUP BY i.ticket_id
      ) k
      WHERE k.ticket_id = r.ticket_id`);
    return;
  }
  const set = (ticketId: string) =>
    `UPDATE report_ticket_timings SET type_keys = ${keysOf(false, ticketId)} WHERE ticket_id = ${ticketId};`;
  await knex.raw(`CREATE TRIGGER report_ticket_timings_types_new AFTER INSERT ON report_ticket_timings
    BEGIN ${set('NEW.ticket_id')} END`);
  await knex.raw(`CREATE TRIGGER report_ticket_timings_types_item_in AFTER INSERT ON ticket_items
    BEGIN ${set('NEW.ticket_id')} END`);
  await knex.raw(`CREATE TRIGGER report_ticket_timings_types_item_out AFTER DELETE ON ticket_items
    BEGIN ${set('OLD.ticket_id')} END`);
  await knex.raw(`CREATE TRIGGER report_ticket_timings_types_item_change AFTER UPDATE OF cable_type, ticket_id ON ticket_items
    BEGIN ${set('OLD.ticket_id')} ${set('NEW.ticket_id')} END`);
  await knex.raw(`UPDATE report_ticket_timings SET type_keys = ${keysOf(false, 'report_ticket_timings.ticket_id')}`);
}

export async function down(knex: Knex): Promise<void> {
  if (isPostgres(knex)) {
    await knex.raw('DROP TRIGGER IF EXISTS report_ticket_timings_types_items ON ticket_items');
    await knex.raw('DROP FUNCTION IF EXISTS report_ticket_timings_types_items()');
    await knex.raw('DROP TRIGGER IF EXISTS report_ticket_timings_types_new ON report_ticket_timings');
    await knex.raw('DROP FUNCTION IF EXISTS report_ticket_timings_types_new()');
  } else {
    for (const name of ['new', 'item_in', 'item_out', 'item_change']) {
      await knex.raw(`DROP TRIGGER IF EXISTS report_ticket_timings_types_${name}`);
    }
  }
  await knex.raw('ALTER TABLE report_ticket_timings DROP COLUMN type_keys');
}
