import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // The append-only ledger (DESIGN.md §7): rows are inserted, never updated or deleted.
  await knex.schema.createTable('inventory_movements', (t) => {
    t.increments('id').primary();
    t.string('movement_type', 20).notNullable();
    t.string('source_type', 30).notNullable();
    // The receipt or ticket id; null for manual adjustments. No foreign key: the ledger outlives a
    // purged ticket.
    t.integer('source_id').nullable();
    // The line of the source (receipt item or ticket item position); 0 for adjustments.
    t.integer('source_line').notNullable().defaultTo(0);
    t.integer('actor_user_id').nullable().references('id').inTable('users');
    t.string('sku_key', 400).notNullable();
    t.string('cable_type', 100).notNullable();
    t.string('cable_length', 50).notNullable();
    t.integer('quantity_delta').notNullable();
    t.text('notes').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    // A source line moves stock once: a second consumption set for one ticket (or a receipt booked
    // twice) is refused by the database, whatever the application does or however requests race.
    t.unique(['source_type', 'source_id', 'source_line'], { indexName: 'inventory_movements_source_line_unique' });
    // Keyset pagination (newest first by id) under each filter.
    t.index(['movement_type', 'id']);
    t.index(['source_type', 'source_id', 'id']);
    t.index(['sku_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('inventory_movements');
}
