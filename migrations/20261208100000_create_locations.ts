import type { Knex } from 'knex';

/**
 * Where stock lives (DESIGN.md §12): a warehouse, a technician's van or a site. Names are unique
 * case-insensitively through an index on lower(name) (both databases index expressions); exactly one
 * location is the default (a partial unique index), the one receiving and requests use unless told.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('locations', (t) => {
    t.increments('id').primary();
    t.string('name', 100).notNullable();
    t.string('kind', 20).notNullable();
    // The technician who drives a van; null for warehouses and sites.
    t.integer('holder_user_id').nullable().references('id').inTable('users').onDelete('SET NULL');
    t.boolean('active').notNullable().defaultTo(true);
    t.boolean('is_default').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.index(['holder_user_id']);
  });
  await knex.raw('CREATE UNIQUE INDEX locations_name_unique ON locations (lower(name))');
  await knex.raw('CREATE UNIQUE INDEX locations_one_default ON locations (is_default) WHERE is_default = true');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('locations');
}
