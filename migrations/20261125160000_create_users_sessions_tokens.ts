import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.increments('id').primary();
    t.string('username', 50).notNullable();
    // Lower-cased copies make uniqueness case-insensitive on both databases.
    t.string('username_key', 50).notNullable().unique();
    t.string('email', 254).notNullable();
    t.string('email_key', 254).notNullable().unique();
    t.string('phone', 16).nullable();
    t.string('password_hash', 255).notNullable();
    t.string('role', 10).notNullable().defaultTo('user');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('sessions', (t) => {
    // sha256 of the cookie's session id: a leaked table cannot be replayed as cookies.
    t.string('id_hash', 64).primary();
    t.integer('user_id').nullable().references('id').inTable('users').onDelete('CASCADE');
    t.text('data').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable().index();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.index(['user_id']);
  });

  await knex.schema.createTable('api_tokens', (t) => {
    t.increments('id').primary();
    t.integer('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('token_hash', 64).notNullable().unique();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['user_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('api_tokens');
  await knex.schema.dropTable('sessions');
  await knex.schema.dropTable('users');
}
