import type { Knex } from 'knex';

/**
 * Who a decision was made for: a delegate acts for the assignee who is away ("for A, as delegate"),
 * an escalation approver steps in for the assignee who did not answer. Null for everything else.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('ticket_events', (t) => {
    t.string('acting_as', 20).nullable();
    t.integer('on_behalf_of_id').nullable().references('id').inTable('users');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('ticket_events', (t) => {
    t.dropForeign(['on_behalf_of_id']);
  });
  await knex.schema.alterTable('ticket_events', (t) => {
    t.dropColumn('on_behalf_of_id');
    t.dropColumn('acting_as');
  });
}
