import type { Knex } from 'knex';

/** The Reply-To of an email (a review request's signed reply address); null: replies go to the sender. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('notifications', (t) => {
    t.string('reply_to', 254).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('notifications', (t) => {
    t.dropColumn('reply_to');
  });
}
