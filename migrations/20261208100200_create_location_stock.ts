import type { Knex } from 'knex';

/**
 * Stock per (location, SKU), moved in the same transaction as every ledger row and reservation, so
 * on-hand and available read O(rows returned) whatever the ledger's size. `reserved` is what approved
 * requests were promised and have not taken yet; available = on_hand - reserved. inventory_stock
 * keeps the totals across locations and gets the same `reserved` total.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('location_stock', (t) => {
    t.integer('location_id').notNullable().references('id').inTable('locations');
    t.string('sku_key', 400).notNullable();
    t.string('cable_type', 100).notNullable();
    t.string('cable_length', 50).notNullable();
    t.bigInteger('on_hand').notNullable().defaultTo(0);
    t.bigInteger('reserved').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.primary(['location_id', 'sku_key']);
  });
  await knex.schema.alterTable('inventory_stock', (t) => {
    t.bigInteger('reserved').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('inventory_stock', (t) => {
    t.dropColumn('reserved');
  });
  await knex.schema.dropTable('location_stock');
}
