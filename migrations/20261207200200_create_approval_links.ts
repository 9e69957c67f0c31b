import type { Knex } from 'knex';

/**
 * Review links beyond the assignee's own (which stays on tickets.approval_token_hash): a delegate's,
 * an escalation approver's, and the fresh link each reminder carries. Each is a random token stored
 * only as its sha256, unique across all links, expiring. `for_user_id` is the assignee a delegate or a
 * reminder link acts for: such a link stops working when the request is reassigned.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('approval_links', (t) => {
    t.increments('id').primary();
    t.integer('ticket_id').notNullable().references('id').inTable('tickets').onDelete('CASCADE');
    t.integer('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.integer('for_user_id').nullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('role', 20).notNullable();
    t.string('token_hash', 64).notNullable().unique();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['ticket_id']);
    t.check("role in ('assignee', 'delegate', 'escalation')", [], 'approval_links_role');
    t.check("(role = 'escalation') = (for_user_id is null)", [], 'approval_links_for_user');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('approval_links');
}
