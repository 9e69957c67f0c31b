import type { Knex } from 'knex';

/**
 * A reservation says how a request line will be filled (DESIGN.md §13): `pieces` of a counted SKU (as
 * before: quantity is a count) or `length` of a bulk SKU (quantity is millimetres: `pieces` cuts of
 * `piece_mm` each). A line may hold both at once (counted pieces first, the rest cut), so "one open
 * reservation per line" becomes one open reservation per line and kind. Both databases refuse a row
 * whose numbers disagree: a CHECK on PostgreSQL, the equivalent triggers on SQLite (which cannot add a
 * CHECK to an existing table).
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

/** The rule over a row's columns (IS NOT NULL first: a NULL would let a CHECK pass), `row` being '' (a CHECK) or 'NEW.' (a trigger). */
const rule = (row: string) => `(${row}kind = 'pieces' AND ${row}piece_mm IS NULL AND ${row}pieces IS NULL)
  OR (${row}kind = 'length' AND ${row}piece_mm IS NOT NULL AND ${row}pieces IS NOT NULL AND ${row}piece_mm > 0 AND ${row}pieces > 0 AND ${row}quantity = ${row}pieces * ${row}piece_mm)`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw("ALTER TABLE stock_reservations ADD COLUMN kind varchar(6) NOT NULL DEFAULT 'pieces'");
  await knex.raw('ALTER TABLE stock_reservations ADD COLUMN pieces integer');
  await knex.raw('ALTER TABLE stock_reservations ADD COLUMN piece_mm integer');
  if (isPostgres(knex)) {
    await knex.raw(`ALTER TABLE stock_reservations ADD CONSTRAINT stock_reservations_kind_shape CHECK (${rule('')})`);
  } else {
    for (const [name, when] of [
      ['stock_reservations_kind_shape_insert', 'BEFORE INSERT ON stock_reservations'],
      ['stock_reservations_kind_shape_update', 'BEFORE UPDATE OF kind, pieces, piece_mm, quantity ON stock_reservations'],
    ]) {
      await knex.raw(`CREATE TRIGGER ${name} ${when}
        WHEN NOT (${rule('NEW.')})
        BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: stock_reservations_kind_shape'); END`);
    }
  }
  await knex.raw('DROP INDEX stock_reservations_one_open');
  await knex.raw(
    "CREATE UNIQUE INDEX stock_reservations_one_open_per_kind ON stock_reservations (ticket_id, source_line, kind) WHERE status = 'open'",
  );
}

/**
 * Back to one open reservation per line. Refused while an open length reservation holds bulk cable:
 * the old shape cannot say it is millimetres (release or fulfil those requests first). Closed length
 * rows stay as history with their quantity in millimetres.
 */
export async function down(knex: Knex): Promise<void> {
  const open = await knex('stock_reservations').where({ status: 'open', kind: 'length' }).count({ n: '*' }).first();
  if (Number(open?.n ?? 0) > 0)
    throw new Error('Open length reservations hold bulk cable; release or fulfil those requests before going back.');
  await knex.raw('DROP INDEX stock_reservations_one_open_per_kind');
  await knex.raw(
    "CREATE UNIQUE INDEX stock_reservations_one_open ON stock_reservations (ticket_id, source_line) WHERE status = 'open'",
  );
  if (isPostgres(knex)) {
    await knex.raw('ALTER TABLE stock_reservations DROP CONSTRAINT IF EXISTS stock_reservations_kind_shape');
  } else {
    await knex.raw('DROP TRIGGER IF EXISTS stock_reservations_kind_shape_insert');
    await knex.raw('DROP TRIGGER IF EXISTS stock_reservations_kind_shape_update');
  }
  await knex.raw('ALTER TABLE stock_reservations DROP COLUMN piece_mm');
  await knex.raw('ALTER TABLE stock_reservations DROP COLUMN pieces');
  await knex.raw('ALTER TABLE stock_reservations DROP COLUMN kind');
}
