import type { Knex } from 'knex';

/** The events a subscription may ask for (src/features/webhooks/schema.ts WEBHOOK_EVENTS). */
const EVENTS = ['ticket.created', 'ticket.status_changed', 'stock.low', 'reorder.suggested', 'optics_request.created'];

export async function up(knex: Knex): Promise<void> {
  // An admin's webhook: where events are POSTed and the secret they are signed with (AES-256-GCM
  // under a key derived from SECRET_KEY: the app must read it back to sign, a database dump alone
  // must not give it away).
  await knex.schema.createTable('webhook_subscriptions', (t) => {
    t.increments('id').primary();
    t.text('url').notNullable();
    t.string('description', 200).nullable();
    t.text('secret_ciphertext').notNullable();
    t.boolean('enabled').notNullable().defaultTo(true);
    // Deliveries given up in a row; at WEBHOOK_DISABLE_AFTER the subscription is disabled.
    t.integer('consecutive_failures').notNullable().defaultTo(0);
    t.check('?? >= 0', ['consecutive_failures']);
    t.timestamp('disabled_at', { useTz: true }).nullable();
    t.text('disabled_reason').nullable();
    t.integer('created_by_id').nullable().references('id').inTable('users').onDelete('SET NULL');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });
  // Which events each subscription hears: one row per (subscription, event), looked up by event.
  await knex.schema.createTable('webhook_subscription_events', (t) => {
    t.integer('subscription_id').notNullable().references('id').inTable('webhook_subscriptions').onDelete('CASCADE');
    t.string('event_type', 40).notNullable().checkIn(EVENTS);
    t.primary(['subscription_id', 'event_type']);
    t.index(['event_type']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_subscription_events');
  await knex.schema.dropTable('webhook_subscriptions');
}
