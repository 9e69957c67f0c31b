import type { Knex } from 'knex';

/**
 * Approve with changes: each item keeps what was asked (`quantity`) and what the approver granted
 * (`approved_quantity`, null until a decision; 0 drops the line), with the approver's note for that
 * line. Both databases refuse an approved quantity outside 0..quantity: a CHECK on PostgreSQL, the
 * equivalent triggers on SQLite (which cannot add a CHECK to an existing table).
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('ticket_items', (t) => {
    t.integer('approved_quantity').nullable();
    t.string('approval_note', 200).nullable();
  });
  if (isPostgres(knex)) {
    await knex.raw(`ALTER TABLE ticket_items ADD CONSTRAINT ticket_items_approved_quantity_range
      CHECK (approved_quantity IS NULL OR (approved_quantity >= 0 AND approved_quantity <= quantity))`);
    return;
  }
  for (const [name, when] of [
    ['ticket_items_approved_quantity_insert', 'BEFORE INSERT ON ticket_items'],
    ['ticket_items_approved_quantity_update', 'BEFORE UPDATE OF approved_quantity, quantity ON ticket_items'],
  ]) {
    await knex.raw(`CREATE TRIGGER ${name} ${when}
      WHEN NEW.approved_quantity IS NOT NULL AND (NEW.approved_quantity < 0 OR NEW.approved_quantity > NEW.quantity)
      BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ticket_items_approved_quantity_range'); END`);
  }
}

export async function down(knex: Knex): Promise<void> {
  if (isPostgres(knex)) {
    await knex.raw('ALTER TABLE ticket_items DROP CONSTRAINT IF EXISTS ticket_items_approved_quantity_range');
  } else {
    await knex.raw('DROP TRIGGER IF EXISTS ticket_items_approved_quantity_insert');
    await knex.raw('DROP TRIGGER IF EXISTS ticket_items_approved_quantity_update');
  }
  await knex.schema.alterTable('ticket_items', (t) => {
    t.dropColumn('approval_note');
    t.dropColumn('approved_quantity');
  });
}
