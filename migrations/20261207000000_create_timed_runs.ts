import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Timed work (src/timed/runner.ts): when each job last ran and is next due, shared by every process,
  // so a job runs once per period across replicas and its schedule survives restarts.
  await knex.schema.createTable('timed_runs', (t) => {
    t.string('name', 100).primary();
    t.timestamp('last_run_at', { useTz: true }).nullable();
    t.timestamp('next_run_at', { useTz: true }).notNullable();
    t.text('last_error').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('timed_runs');
}
