import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tickets', (t) => {
    t.increments('id').primary();
    t.integer('created_by_id').notNullable().references('id').inTable('users');
    t.integer('assigned_to_id').notNullable().references('id').inTable('users');
    t.string('status', 20).notNullable();
    t.string('priority', 10).notNullable().defaultTo('medium');
    t.string('location', 200).notNullable();
    t.text('notes').nullable();
    t.string('rejection_reason', 500).nullable();
    // Lower-cased location, notes and item text, kept by the service: what the dashboard search reads.
    t.text('search_text').notNullable().defaultTo('');
    t.string('approval_token_hash', 64).nullable();
    t.timestamp('approval_token_expires_at', { useTz: true }).nullable();
    t.timestamp('deleted_at', { useTz: true }).nullable();
    t.integer('deleted_by_id').nullable().references('id').inTable('users');
    t.string('status_before_delete', 20).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    // Keyset pagination (newest first by id) under each dashboard filter.
    t.index(['status', 'id']);
    t.index(['created_by_id', 'id']);
    t.index(['assigned_to_id', 'id']);
  });

  await knex.schema.createTable('ticket_items', (t) => {
    t.increments('id').primary();
    t.integer('ticket_id').notNullable().references('id').inTable('tickets').onDelete('CASCADE');
    t.integer('position').notNullable();
    t.string('cable_type', 100).notNullable();
    t.string('cable_length', 50).notNullable();
    t.string('cable_gauge', 50).nullable();
    t.integer('quantity').notNullable();
    t.unique(['ticket_id', 'position']);
  });

  await knex.schema.createTable('ticket_events', (t) => {
    t.increments('id').primary();
    t.integer('ticket_id').notNullable().references('id').inTable('tickets').onDelete('CASCADE');
    t.string('event_type', 30).notNullable();
    t.integer('actor_user_id').nullable().references('id').inTable('users');
    // How the actor acted when it was not a signed-in session: 'review link', 'api', 'sms'.
    t.string('via', 20).nullable();
    t.string('from_status', 20).nullable();
    t.string('to_status', 20).nullable();
    t.text('note').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['ticket_id', 'id']);
  });

  // One row per status, moved in the same transaction as each ticket change: stats read 7 rows.
  await knex.schema.createTable('ticket_counts', (t) => {
    t.string('status', 20).primary();
    t.bigInteger('n').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('ticket_counts');
  await knex.schema.dropTable('ticket_events');
  await knex.schema.dropTable('ticket_items');
  await knex.schema.dropTable('tickets');
}
