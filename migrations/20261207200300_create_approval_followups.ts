import type { Knex } from 'knex';

/**
 * Reminders and escalation of a request waiting for approval, as the timed job left them: a restart
 * neither repeats nor skips one. `link_sent_at` is when the assignee's current link went out (a
 * reassignment or a resent link starts the count again); `reminders_sent` counts reminders since then.
 * Each follow-up claims its step here with a conditional update, so two workers never both send it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('approval_followups', (t) => {
    t.integer('ticket_id').primary().references('id').inTable('tickets').onDelete('CASCADE');
    t.timestamp('link_sent_at', { useTz: true }).notNullable();
    t.integer('reminders_sent').notNullable().defaultTo(0);
    t.timestamp('last_reminded_at', { useTz: true }).nullable();
    t.timestamp('escalated_at', { useTz: true }).nullable();
    // The delegate the request was last offered to (the assignee being away), so it is offered once.
    t.integer('offered_to_id').nullable().references('id').inTable('users').onDelete('SET NULL');
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.check('reminders_sent >= 0', [], 'approval_followups_reminders_sent');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('approval_followups');
}
