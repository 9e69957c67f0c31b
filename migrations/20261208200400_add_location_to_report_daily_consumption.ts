import type { Knex } from 'knex';

/**
 * report_daily_consumption per stock location: the key becomes (day, location_id, sku_key), the
 * trigger on the ledger takes the movement's location_id, and the table is refilled from the ledger's
 * consumption rows. The table only ever holds what the ledger says, so it is rebuilt (SQLite cannot
 * change a primary key in place). A movement without a location (none since locations were filled in)
 * counts under location 0: in "All stock", at no named location. Down puts back the day-and-SKU table.
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

async function dropAll(knex: Knex) {
  if (isPostgres(knex)) {
    await knex.raw('DROP TRIGGER IF EXISTS report_daily_consumption_track ON inventory_movements');
    await knex.raw('DROP FUNCTION IF EXISTS report_daily_consumption_track()');
  } else {
    await knex.raw('DROP TRIGGER IF EXISTS report_daily_consumption_track');
  }
  await knex.schema.dropTableIfExists('report_daily_consumption');
}

/** The table, its trigger and its rows, with or without the location in the key. */
async function build(knex: Knex, withLocation: boolean) {
  await knex.schema.createTable('report_daily_consumption', (t) => {
    t.date('day').notNullable();
    if (withLocation) t.integer('location_id').notNullable().defaultTo(0);
    t.string('sku_key', 400).notNullable();
    t.string('type_key', 100).notNullable();
    t.string('cable_type', 100).notNullable();
    t.string('cable_length', 50).notNullable();
    t.bigInteger('quantity').notNullable().defaultTo(0);
    t.primary(withLocation ? ['day', 'location_id', 'sku_key'] : ['day', 'sku_key']);
  });
  const pg = isPostgres(knex);
  const key = withLocation ? 'day, location_id, sku_key' : 'day, sku_key';
  const cols = `day, ${withLocation ? 'location_id, ' : ''}sku_key, type_key, cable_type, cable_length, quantity`;
  const loc = (m: string) => (withLocation ? `coalesce(${m}.location_id, 0), ` : '');
  if (pg) {
    await knex.raw(`
      CREATE FUNCTION report_daily_consumption_track() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO report_daily_consumption AS r (${cols})
        VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, ${loc('NEW')}NEW.sku_key, lower(btrim(NEW.cable_type)), NEW.cable_type,
          NEW.cable_length, -NEW.quantity_delta)
        ON CONFLICT (${key}) DO UPDATE SET quantity = r.quantity + excluded.quantity;
        RETURN NULL;
      END;
      $$`);
    await knex.raw(`
      CREATE TRIGGER report_daily_consumption_track AFTER INSERT ON inventory_movements
      FOR EACH ROW WHEN (NEW.movement_type = 'consumption') EXECUTE FUNCTION report_daily_consumption_track()`);
  } else {
    await knex.raw(`
      CREATE TRIGGER report_daily_consumption_track AFTER INSERT ON inventory_movements
      WHEN NEW.movement_type = 'consumption'
      BEGIN
        INSERT INTO report_daily_consumption (${cols})
        VALUES (date(NEW.created_at), ${loc('NEW')}NEW.sku_key, lower(trim(NEW.cable_type)), NEW.cable_type, NEW.cable_length,
          -NEW.quantity_delta)
        ON CONFLICT (${key}) DO UPDATE SET quantity = quantity + excluded.quantity;
      END`);
  }
  const day = pg ? "(m.created_at AT TIME ZONE 'UTC')::date" : 'date(m.created_at)';
  const trim = pg ? 'btrim' : 'trim';
  await knex.raw(`
    INSERT INTO report_daily_consumption (${cols})
    SELECT ${day}, ${loc('m')}m.sku_key, min(lower(${trim}(m.cable_type))), min(m.cable_type), min(m.cable_length), -sum(m.quantity_delta)
    FROM inventory_movements m
    WHERE m.movement_type = 'consumption'
    GROUP BY ${day}, ${loc('m')}m.sku_key`);
}

export async function up(knex: Knex): Promise<void> {
  await dropAll(knex);
  await build(knex, true);
}

export async function down(knex: Knex): Promise<void> {
  await dropAll(knex);
  await build(knex, false);
}
