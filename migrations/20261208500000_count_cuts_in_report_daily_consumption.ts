import type { Knex } from 'knex';

/**
 * Cuts from reels (DESIGN.md §13) are consumption too: report_daily_consumption's trigger counts
 * 'cut' movements beside 'consumption' ones, so a bulk SKU's row holds the millimetres cut from its
 * reels that day. Scrap is waste, not use, and counts, moves and receipts are not consumption: none of
 * them is counted. The rows are refilled from the ledger (they only ever hold what it says), so cuts
 * made before this migration are counted too. Down puts back the trigger that counts consumption only,
 * and the rows it keeps.
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

const COLS = 'day, location_id, sku_key, type_key, cable_type, cable_length, quantity';
const KEY = 'day, location_id, sku_key';

async function dropTrigger(knex: Knex) {
  if (isPostgres(knex)) {
    await knex.raw('DROP TRIGGER IF EXISTS report_daily_consumption_track ON inventory_movements');
    await knex.raw('DROP FUNCTION IF EXISTS report_daily_consumption_track()');
  } else {
    await knex.raw('DROP TRIGGER IF EXISTS report_daily_consumption_track');
  }
}

/** The trigger counting these movement types, and the table refilled with the ledger's rows of them. */
async function track(knex: Knex, types: string[]) {
  await dropTrigger(knex);
  const list = types.map((t) => `'${t}'`).join(', ');
  const pg = isPostgres(knex);
  if (pg) {
    await knex.raw(`
      CREATE FUNCTION report_daily_consumption_track() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO report_daily_consumption AS r (${COLS})
        VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, coalesce(NEW.location_id, 0), NEW.sku_key,
          lower(btrim(NEW.cable_type)), NEW.cable_type, NEW.cable_length, -NEW.quantity_delta)
        ON CONFLICT (${KEY}) DO UPDATE SET quantity = r.quantity + excluded.quantity;
        RETURN NULL;
      END;
      $$`);
    await knex.raw(`
      CREATE TRIGGER report_daily_consumption_track AFTER INSERT ON inventory_movements
      FOR EACH ROW WHEN (NEW.movement_type IN (${list})) EXECUTE FUNCTION report_daily_consumption_track()`);
  } else {
    await knex.raw(`
      CREATE TRIGGER report_daily_consumption_track AFTER INSERT ON inventory_movements
      WHEN NEW.movement_type IN (${list})
      BEGIN
        INSERT INTO report_daily_consumption (${COLS})
        VALUES (date(NEW.created_at), coalesce(NEW.location_id, 0), NEW.sku_key, lower(trim(NEW.cable_type)),
          NEW.cable_type, NEW.cable_length, -NEW.quantity_delta)
        ON CONFLICT (${KEY}) DO UPDATE SET quantity = quantity + excluded.quantity;
      END`);
  }
  const day = pg ? "(m.created_at AT TIME ZONE 'UTC')::date" : 'date(m.created_at)';
  const trim = pg ? 'btrim' : 'trim';
  await knex('report_daily_consumption').delete();
  await knex.raw(`
    INSERT INTO report_daily_consumption (${COLS})
    SELECT ${day}, coalesce(m.location_id, 0), m.sku_key, min(lower(${trim}(m.cable_type))), min(m.cable_type),
      min(m.cable_length), -sum(m.quantity_delta)
    FROM inventory_movements m
    WHERE m.movement_type IN (${list})
    GROUP BY ${day}, coalesce(m.location_id, 0), m.sku_key`);
}

export async function up(knex: Knex): Promise<void> {
  await track(knex, ['consumption', 'cut']);
}

export async function down(knex: Knex): Promise<void> {
  await track(knex, ['consumption']);
}
