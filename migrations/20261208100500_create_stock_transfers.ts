import type { Knex } from 'knex';

/** A move of stock between two locations; its lines are transfer_out/transfer_in ledger rows. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('stock_transfers', (t) => {
    t.increments('id').primary();
    t.integer('from_location_id').notNullable().references('id').inTable('locations');
    t.integer('to_location_id').notNullable().references('id').inTable('locations');
    t.text('notes').nullable();
    t.integer('created_by_id').nullable().references('id').inTable('users').onDelete('SET NULL');
    t.timestamp('created_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('stock_transfers');
}
