import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('optics_requests', (t) => {
    t.increments('id').primary();
    // The part asked for: selected_part, or other_part when selected_part is "Other".
    t.string('part_number', 255).notNullable();
    t.string('selected_part', 100).notNullable();
    t.string('other_part', 255).nullable();
    t.integer('quantity').notNullable();
    t.string('requester_name', 50).notNullable();
    t.string('status', 10).notNullable().defaultTo('pending');
    t.string('admin_note', 500).nullable();
    t.integer('requested_by_id').notNullable().references('id').inTable('users');
    t.integer('decided_by_id').nullable().references('id').inTable('users');
    t.timestamp('decided_at', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    // Keyset pagination (newest first by id): everyone's, one user's, one status.
    t.index(['requested_by_id', 'id']);
    t.index(['status', 'id']);
  });

  // The audit trail: every submission and admin action, who, when, from/to status and the note.
  await knex.schema.createTable('optics_request_events', (t) => {
    t.increments('id').primary();
    t.integer('optics_request_id').notNullable().references('id').inTable('optics_requests').onDelete('CASCADE');
    t.string('action', 20).notNullable();
    t.integer('actor_user_id').nullable().references('id').inTable('users');
    t.string('from_status', 10).nullable();
    t.string('to_status', 10).notNullable();
    t.string('note', 500).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['optics_request_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('optics_request_events');
  await knex.schema.dropTable('optics_requests');
}
