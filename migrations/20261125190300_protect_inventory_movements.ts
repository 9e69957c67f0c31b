import type { Knex } from 'knex';

/**
 * The ledger refuses UPDATE and DELETE at the database, so no code path (or hand-typed SQL) can
 * rewrite history: corrections are new adjustment rows. PostgreSQL gets a trigger function; SQLite
 * gets the equivalent triggers so both databases behave alike.
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

export async function up(knex: Knex): Promise<void> {
  if (isPostgres(knex)) {
    await knex.raw(`
      CREATE FUNCTION inventory_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'inventory_movements is append-only: % is not allowed', TG_OP
          USING ERRCODE = 'restrict_violation';
      END;
      $$`);
    await knex.raw(`
      CREATE TRIGGER inventory_movements_append_only
      BEFORE UPDATE OR DELETE ON inventory_movements
      FOR EACH ROW EXECUTE FUNCTION inventory_movements_append_only()`);
    await knex.raw(`
      CREATE TRIGGER inventory_movements_no_truncate
      BEFORE TRUNCATE ON inventory_movements
      FOR EACH STATEMENT EXECUTE FUNCTION inventory_movements_append_only()`);
    return;
  }
  await knex.raw(`
    CREATE TRIGGER inventory_movements_no_update BEFORE UPDATE ON inventory_movements
    BEGIN SELECT RAISE(ABORT, 'inventory_movements is append-only: UPDATE is not allowed'); END`);
  await knex.raw(`
    CREATE TRIGGER inventory_movements_no_delete BEFORE DELETE ON inventory_movements
    BEGIN SELECT RAISE(ABORT, 'inventory_movements is append-only: DELETE is not allowed'); END`);
}

export async function down(knex: Knex): Promise<void> {
  if (isPostgres(knex)) {
    await knex.raw('DROP TRIGGER IF EXISTS inventory_movements_no_truncate ON inventory_movements');
    await knex.raw('DROP TRIGGER IF EXISTS inventory_movements_append_only ON inventory_movements');
    await knex.raw('DROP FUNCTION IF EXISTS inventory_movements_append_only()');
    return;
  }
  await knex.raw('DROP TRIGGER IF EXISTS inventory_movements_no_update');
  await knex.raw('DROP TRIGGER IF EXISTS inventory_movements_no_delete');
}
