import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // The part numbers the optics form offers (plus "Other"); admins add and remove them on a page.
  await knex.schema.createTable('optics_parts', (t) => {
    t.increments('id').primary();
    t.string('part_number', 100).notNullable();
    // Lower-cased part_number: "sfp-10g-sr" and "SFP-10G-SR" are one part.
    t.string('part_key', 100).notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('optics_parts');
}
