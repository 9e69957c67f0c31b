import type { Knex } from 'knex';

/**
 * Reorder rules per (location, SKU) and the suggestions they open: when available falls below min,
 * one open suggestion per pair (a partial unique index decides races), sized up to max.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('reorder_rules', (t) => {
    t.integer('location_id').notNullable().references('id').inTable('locations');
    t.string('sku_key', 400).notNullable();
    t.string('cable_type', 100).notNullable();
    t.string('cable_length', 50).notNullable();
    t.integer('min_quantity').notNullable();
    t.integer('max_quantity').notNullable();
    t.integer('pack_multiple').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.primary(['location_id', 'sku_key']);
  });
  await knex.schema.createTable('reorder_suggestions', (t) => {
    t.increments('id').primary();
    t.integer('location_id').notNullable().references('id').inTable('locations');
    t.string('sku_key', 400).notNullable();
    t.string('cable_type', 100).notNullable();
    t.string('cable_length', 50).notNullable();
    // purchase | transfer
    t.string('kind', 10).notNullable();
    t.integer('from_location_id').nullable().references('id').inTable('locations');
    t.integer('quantity').notNullable();
    // open | done | closed
    t.string('status', 10).notNullable();
    t.integer('transfer_id').nullable().references('id').inTable('stock_transfers');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('closed_at', { useTz: true }).nullable();
    t.index(['status', 'id']);
  });
  await knex.raw(
    "CREATE UNIQUE INDEX reorder_suggestions_one_open ON reorder_suggestions (location_id, sku_key) WHERE status = 'open'",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('reorder_suggestions');
  await knex.schema.dropTable('reorder_rules');
}
