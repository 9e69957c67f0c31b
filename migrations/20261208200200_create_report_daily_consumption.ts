import type { Knex } from 'knex';

/**
 * Cable consumed per UTC day and SKU, for the consumption and days-of-cover reports: a year of a
 * hundred SKUs is ~36,500 rows however long the ledger grows. A trigger on the (append-only) ledger
 * adds each consumption row in the same transaction. `type_key` groups spellings of a cable type
 * ("Cat6", "cat6 "), trimmed and lower-cased alike on both databases.
 *
 * Stock locations (DESIGN.md §12) are not in the ledger yet: when they are, this table gains the
 * movement's location in its key (a migration of its own, with the trigger and a refill).
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('report_daily_consumption', (t) => {
    t.date('day').notNullable();
    t.string('sku_key', 400).notNullable();
    t.string('type_key', 100).notNullable();
    t.string('cable_type', 100).notNullable();
    t.string('cable_length', 50).notNullable();
    t.bigInteger('quantity').notNullable().defaultTo(0);
    t.primary(['day', 'sku_key']);
  });
  if (isPostgres(knex)) {
    await knex.raw(`
      CREATE FUNCTION report_daily_consumption_track() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO report_daily_consumption AS r (day, sku_key, type_key, cable_type, cable_length, quantity)
        VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.sku_key, lower(btrim(NEW.cable_type)), NEW.cable_type,
          NEW.cable_length, -NEW.quantity_delta)
        ON CONFLICT (day, sku_key) DO UPDATE SET quantity = r.quantity + excluded.quantity;
        RETURN NULL;
      END;
      $$`);
    await knex.raw(`
      CREATE TRIGGER report_daily_consumption_track AFTER INSERT ON inventory_movements
      FOR EACH ROW WHEN (NEW.movement_type = 'consumption') EXECUTE FUNCTION report_daily_consumption_track()`);
    return;
  }
  await knex.raw(`
    CREATE TRIGGER report_daily_consumption_track AFTER INSERT ON inventory_movements
    WHEN NEW.movement_type = 'consumption'
    BEGIN
      INSERT INTO report_daily_consumption (day, sku_key, type_key, cable_type, cable_length, quantity)
      VALUES (date(NEW.created_at), NEW.sku_key, lower(trim(NEW.cable_type)), NEW.cable_type, NEW.cable_length, -NEW.quantity_delta)
      ON CONFLICT (day, sku_key) DO UPDATE SET quantity = quantity + excluded.quantity;
    END`);
}

export async function down(knex: Knex): Promise<void> {
  if (isPostgres(knex)) {
    await knex.raw('DROP TRIGGER IF EXISTS report_daily_consumption_track ON inventory_movements');
    await knex.raw('DROP FUNCTION IF EXISTS report_daily_consumption_track()');
  } else {
    await knex.raw('DROP TRIGGER IF EXISTS report_daily_consumption_track');
  }
  await knex.schema.dropTable('report_daily_consumption');
}
