import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // The transactional outbox: a row per message, written in the same transaction as its cause.
  await knex.schema.createTable('notifications', (t) => {
    t.increments('id').primary();
    t.integer('ticket_id').nullable().references('id').inTable('tickets').onDelete('SET NULL');
    t.integer('optics_request_id').nullable();
    t.integer('recipient_user_id').nullable().references('id').inTable('users').onDelete('SET NULL');
    t.string('recipient_address', 254).nullable();
    t.string('channel', 10).notNullable();
    t.string('notification_type', 40).notNullable();
    t.string('status', 10).notNullable().defaultTo('queued');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable();
    // When a worker claimed the row; a `sending` row older than the lease is claimed again.
    t.timestamp('locked_at', { useTz: true }).nullable();
    t.string('subject', 200).nullable();
    t.text('body_text').notNullable();
    t.text('body_html').nullable();
    t.string('provider', 20).nullable();
    t.string('provider_message_id', 100).nullable();
    t.text('error_message').nullable();
    t.timestamp('sent_at', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.index(['status', 'next_attempt_at']);
    t.index(['ticket_id']);
    t.index(['optics_request_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('notifications');
}
