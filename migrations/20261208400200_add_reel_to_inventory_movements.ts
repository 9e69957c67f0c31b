import type { Knex } from 'knex';

/**
 * A movement of bulk cable names its reel (receipt, cut, count, move, scrap); its quantity_delta is
 * millimetres. Added with plain ALTER TABLE (both databases accept a nullable column with a foreign
 * key that way), so the ledger's append-only triggers stay as they are; the reel's history reads the
 * index (reel_id, id).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE inventory_movements ADD COLUMN reel_id integer REFERENCES reels (id)');
  await knex.raw('CREATE INDEX inventory_movements_reel_id ON inventory_movements (reel_id, id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX inventory_movements_reel_id');
  await knex.raw('ALTER TABLE inventory_movements DROP COLUMN reel_id');
}
