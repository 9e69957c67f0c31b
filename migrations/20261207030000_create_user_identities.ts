import type { Knex } from 'knex';

/**
 * Accounts signed in through OpenID Connect: the provider's (issuer, subject) pair names the person
 * for good, even after their email changes. One identity per account and issuer, so a second person
 * at the provider who gets the same email address later cannot take the account over.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('user_identities', (t) => {
    t.increments('id').primary();
    t.integer('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('issuer', 500).notNullable();
    t.string('subject', 255).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('last_sign_in_at', { useTz: true }).notNullable();
    t.unique(['issuer', 'subject']);
    t.unique(['user_id', 'issuer']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('user_identities');
}
