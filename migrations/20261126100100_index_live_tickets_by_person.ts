import type { Knex } from 'knex';

/**
 * "Created by me" and "Assigned to me" list the live tickets (`status <> 'deleted'`) newest first.
 * These partial indexes hold exactly those rows in that order, so a page is the first rows of one
 * index, whoever asks: on a million tickets the planner otherwise walked the primary key backwards and
 * filtered (fine for someone with many tickets, a full scan for someone with none), and a prepared
 * (generic) plan cannot tell the two apart. The full (person, id) indexes stay for
 * `include_deleted=true` and the status filters. Same SQL on PostgreSQL and SQLite.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE INDEX tickets_live_created_by_id_id ON tickets (created_by_id, id) WHERE status <> 'deleted'`);
  await knex.raw(`CREATE INDEX tickets_live_assigned_to_id_id ON tickets (assigned_to_id, id) WHERE status <> 'deleted'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS tickets_live_assigned_to_id_id');
  await knex.raw('DROP INDEX IF EXISTS tickets_live_created_by_id_id');
}
