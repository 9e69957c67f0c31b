import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // A delivery from a vendor: the header an admin types in; its lines become `receipt` movements.
  await knex.schema.createTable('cable_receipts', (t) => {
    t.increments('id').primary();
    t.string('vendor', 200).notNullable();
    t.string('po_number', 100).nullable();
    t.text('notes').nullable();
    t.integer('received_by_id').notNullable().references('id').inTable('users');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('cable_receipt_items', (t) => {
    t.increments('id').primary();
    t.integer('receipt_id').notNullable().references('id').inTable('cable_receipts').onDelete('CASCADE');
    t.integer('position').notNullable();
    t.string('cable_type', 100).notNullable();
    t.string('cable_length', 50).notNullable();
    t.integer('quantity').notNullable();
    t.unique(['receipt_id', 'position']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('cable_receipt_items');
  await knex.schema.dropTable('cable_receipts');
}
