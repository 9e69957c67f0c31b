import type { Knex } from 'knex';

/**
 * Bulk cable (DESIGN.md §13): one bulk SKU per cable type, kept by length on reels. Its key is the SKU
 * key of (cable_type, '') — no counted or requested SKU has an empty length — so location_stock and
 * inventory_stock hold its stock in millimetres beside the counted SKUs. `unit` is how lengths are
 * typed and shown (the first receipt of the type sets it); the stored lengths are millimetres.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('bulk_skus', (t) => {
    t.string('sku_key', 400).primary();
    t.string('cable_type', 100).notNullable();
    t.string('unit', 2).notNullable().checkIn(['ft', 'm'], 'bulk_skus_unit');
    t.timestamp('created_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('bulk_skus');
}
