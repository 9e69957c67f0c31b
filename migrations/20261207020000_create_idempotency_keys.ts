import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One row per (caller, Idempotency-Key): the request's fingerprint while it runs, then its response.
  await knex.schema.createTable('idempotency_keys', (t) => {
    t.increments('id').primary();
    // "user:<id>", or "link:<sha256 of the path>" for a review link used without a session.
    t.string('caller', 80).notNullable();
    t.string('key', 255).notNullable();
    // sha256 (hex) of method, path and the request body without its CSRF token and key field.
    t.string('request_hash', 64).notNullable();
    // The claim that runs the request now: only its holder records the outcome.
    t.string('run_token', 36).notNullable();
    // Null while the first request runs; then the response kept for replays.
    t.integer('response_status').nullable();
    t.text('response_headers').nullable();
    t.binary('response_body').nullable();
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable().index();
    t.unique(['caller', 'key']);
    t.check('length(??) between 1 and 255', ['key'], 'idempotency_keys_key_length');
    t.check('?? is null or ?? between 200 and 399', ['response_status', 'response_status'], 'idempotency_keys_kept_status');
    t.check('(?? is null) = (?? is null)', ['response_status', 'response_headers'], 'idempotency_keys_response_whole');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idempotency_keys');
}
