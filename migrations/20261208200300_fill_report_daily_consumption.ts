import type { Knex } from 'knex';

const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

/** The daily consumption of the ledger rows written before the trigger existed. */
export async function up(knex: Knex): Promise<void> {
  const day = isPostgres(knex) ? "(m.created_at AT TIME ZONE 'UTC')::date" : 'date(m.created_at)';
  const trim = isPostgres(knex) ? 'btrim' : 'trim';
  await knex.raw(`
    INSERT INTO report_daily_consumption (day, sku_key, type_key, cable_type, cable_length, quantity)
    SELECT ${day}, m.sku_key, min(lower(${trim}(m.cable_type))), min(m.cable_type), min(m.cable_length), -sum(m.quantity_delta)
    FROM inventory_movements m
    WHERE m.movement_type = 'consumption'
    GROUP BY ${day}, m.sku_key`);
}

export async function down(): Promise<void> {
  // The rows go with the table (the previous migration's down).
}
