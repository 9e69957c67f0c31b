import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Rate-limit counters shared by every web process on PostgreSQL (src/http/rate-limit.ts), in the
  // shape rate-limiter-flexible's PostgreSQL store reads and writes: a key, its points, when they
  // expire (epoch milliseconds). SQLite keeps its counters in memory (one process).
  await knex.schema.createTable('rate_limits', (t) => {
    t.string('key', 255).primary();
    t.integer('points').notNullable().defaultTo(0);
    t.bigInteger('expire').nullable();
    t.index(['expire']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('rate_limits');
}
