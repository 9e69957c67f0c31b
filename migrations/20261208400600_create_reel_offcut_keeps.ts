import type { Knex } from 'knex';

/**
 * "Keep or scrap" (DESIGN.md §13): a reel a request's cuts left shorter than REEL_OFFCUT_MIN is
 * offered on that request's page until someone scraps it or keeps it. Keeping is recorded here, once
 * per request and reel, with who decided; scrapping is the reel's own scrap movement.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('reel_offcut_keeps', (t) => {
    t.increments('id').primary();
    // No foreign key to tickets: a purged request's decisions may stay, like its ledger rows.
    t.integer('ticket_id').notNullable();
    t.integer('reel_id').notNullable().references('id').inTable('reels');
    t.integer('kept_by_id').nullable().references('id').inTable('users');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.unique(['ticket_id', 'reel_id'], { indexName: 'reel_offcut_keeps_once' });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('reel_offcut_keeps');
}
