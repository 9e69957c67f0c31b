import type { Knex } from 'knex';

/**
 * Every movement names its location. Nullable with no foreign key, like source_id: the ledger
 * outlives what it points at, and a plain added column can be dropped again on SQLite. The data
 * migration that follows fills it for the rows written before locations existed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE inventory_movements ADD COLUMN location_id integer');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE inventory_movements DROP COLUMN location_id');
}
