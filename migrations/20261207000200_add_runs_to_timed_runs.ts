import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // How many periods each timed job has been run in (a claim and its run commit together).
  await knex.schema.alterTable('timed_runs', (t) => {
    t.integer('runs').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('timed_runs', (t) => {
    t.dropColumn('runs');
  });
}
