import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // The delivery log: every attempt, what came back (status, time taken, the first 1 KB of the
  // answer) or why nothing did.
  await knex.schema.createTable('webhook_attempts', (t) => {
    t.increments('id').primary();
    t.integer('delivery_id').notNullable().references('id').inTable('webhook_deliveries').onDelete('CASCADE');
    t.integer('attempt').notNullable().checkPositive();
    t.string('outcome', 10).notNullable().checkIn(['delivered', 'failed', 'gave_up', 'refused']);
    t.integer('status_code').nullable();
    t.integer('duration_ms').notNullable();
    t.check('?? >= 0', ['duration_ms']);
    t.text('error').nullable();
    t.text('response_excerpt').nullable();
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.index(['delivery_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_attempts');
}
