import type { Knex } from 'knex';

/**
 * Where a request's cable comes from (default: the default warehouse; the requester or the approver
 * may pick another). A plain column, checked by the service, so it can be dropped again on SQLite.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE tickets ADD COLUMN source_location_id integer');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE tickets DROP COLUMN source_location_id');
}
