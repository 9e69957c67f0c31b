import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One row per event that had subscribers: the body exactly as signed and sent, and its webhook-id
  // (the same for every subscriber and every retry, so receivers can drop repeats).
  await knex.schema.createTable('webhook_events', (t) => {
    t.increments('id').primary();
    t.string('message_id', 40).notNullable().unique();
    t.string('event_type', 40).notNullable();
    t.text('payload').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_events');
}
