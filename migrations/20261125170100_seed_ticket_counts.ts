import type { Knex } from 'knex';

const STATUSES = ['pending_approval', 'approved', 'rejected', 'in_progress', 'fulfilled', 'closed', 'deleted'];

export async function up(knex: Knex): Promise<void> {
  await knex('ticket_counts').insert(STATUSES.map((status) => ({ status, n: 0 })));
}

export async function down(knex: Knex): Promise<void> {
  await knex('ticket_counts').delete();
}
