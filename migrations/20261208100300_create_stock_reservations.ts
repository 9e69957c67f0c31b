import type { Knex } from 'knex';

/**
 * What an approval promised: one row per request line at its source location. Open rows sum to
 * location_stock.reserved; release (reject, delete, close) and fulfilment close them. At most one
 * open reservation per request line (a partial unique index), however decisions race.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('stock_reservations', (t) => {
    t.increments('id').primary();
    // No foreign key: a purged request's closed reservations stay as history.
    t.integer('ticket_id').notNullable();
    t.integer('source_line').notNullable();
    t.integer('location_id').notNullable().references('id').inTable('locations');
    t.string('sku_key', 400).notNullable();
    t.string('cable_type', 100).notNullable();
    t.string('cable_length', 50).notNullable();
    t.integer('quantity').notNullable();
    // open | released | consumed
    t.string('status', 10).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('closed_at', { useTz: true }).nullable();
    t.index(['ticket_id', 'status']);
    t.index(['location_id', 'sku_key', 'status']);
  });
  await knex.raw(
    "CREATE UNIQUE INDEX stock_reservations_one_open ON stock_reservations (ticket_id, source_line) WHERE status = 'open'",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('stock_reservations');
}
