import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One row per SKU, moved in the same transaction as every ledger row: on-hand reads O(SKUs) rows.
  await knex.schema.createTable('inventory_stock', (t) => {
    // "type|length", lower-cased with whitespace collapsed: "Cat6 " and "cat6" are one SKU.
    t.string('sku_key', 400).primary();
    // The first spelling seen, for display.
    t.string('cable_type', 100).notNullable();
    t.string('cable_length', 50).notNullable();
    t.bigInteger('on_hand').notNullable().defaultTo(0);
    t.integer('reorder_threshold').nullable();
    // When the last low-stock alert went out: at most one per SKU per 24 hours.
    t.timestamp('last_alert_at', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('inventory_stock');
}
