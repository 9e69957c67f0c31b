import type { Knex } from 'knex';

/**
 * "Away from .. to .., my delegate is X": at most one per user. While it holds, requests assigned to
 * the user are offered to X. Nobody is their own delegate and a period ends after it starts.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('user_delegations', (t) => {
    t.integer('user_id').primary().references('id').inTable('users').onDelete('CASCADE');
    t.integer('delegate_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.timestamp('away_from', { useTz: true }).notNullable();
    t.timestamp('away_until', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.index(['delegate_id']);
    t.check('delegate_id <> user_id', [], 'user_delegations_not_self');
    t.check('away_until > away_from', [], 'user_delegations_period');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('user_delegations');
}
