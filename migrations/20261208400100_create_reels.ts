import type { Knex } from 'knex';

/**
 * One row per physical reel of bulk cable (DESIGN.md §13). `remaining_mm` is starting_mm plus the sum
 * of the reel's ledger movements, kept in the same transaction as each of them and never below zero
 * (a check, besides the engine's conditional update). `code` is "R-" and the id padded to six digits,
 * written in the inserting transaction. Best-fit picking reads the partial index: the pickable reels
 * of one SKU at one location, shortest first.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('reels', (t) => {
    t.increments('id').primary();
    t.string('code', 20).notNullable().unique();
    t.string('sku_key', 400).notNullable().references('sku_key').inTable('bulk_skus');
    t.integer('location_id').notNullable().references('id').inTable('locations');
    t.integer('starting_mm').notNullable();
    t.bigInteger('remaining_mm').notNullable();
    // The lot number or the vendor's reference printed on the reel.
    t.string('lot', 100).nullable();
    t.integer('receipt_id').nullable().references('id').inTable('cable_receipts');
    t.string('status', 10).notNullable().defaultTo('active').checkIn(['active', 'scrapped'], 'reels_status');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.check('?? > 0', ['starting_mm'], 'reels_starting_positive');
    t.check('?? >= 0', ['remaining_mm'], 'reels_remaining_not_negative');
    t.index(['receipt_id']);
    t.index(['location_id', 'sku_key', 'id']);
  });
  await knex.raw(
    "CREATE INDEX reels_best_fit ON reels (sku_key, location_id, remaining_mm) WHERE status = 'active' AND remaining_mm > 0",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('reels');
}
