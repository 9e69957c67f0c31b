import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One event for one subscription, worked like the notifications outbox: claimed in batches
  // (status sending, locked_at), retried with backoff, `attempts` counting the tries.
  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.increments('id').primary();
    t.integer('event_id').notNullable().references('id').inTable('webhook_events').onDelete('CASCADE');
    t.integer('subscription_id').notNullable().references('id').inTable('webhook_subscriptions').onDelete('CASCADE');
    t.string('status', 10).notNullable().defaultTo('queued').checkIn(['queued', 'sending', 'delivered', 'failed']);
    t.integer('attempts').notNullable().defaultTo(0);
    t.check('?? >= 0', ['attempts']);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable();
    t.timestamp('locked_at', { useTz: true }).nullable();
    t.integer('last_status_code').nullable();
    t.text('last_error').nullable();
    t.timestamp('delivered_at', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.unique(['event_id', 'subscription_id']);
    t.index(['status', 'next_attempt_at']);
    t.index(['subscription_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_deliveries');
}
