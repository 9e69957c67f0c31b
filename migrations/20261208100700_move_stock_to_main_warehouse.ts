import type { Knex } from 'knex';

/**
 * Data for locations (DESIGN.md §12): "Main warehouse" becomes the default location; every movement,
 * stock row and request written before locations existed moves there; approved requests not yet
 * fulfilled reserve what they were granted; the old single reorder threshold of a SKU becomes the
 * default warehouse's rule (min = the threshold, max = twice it). The ledger refuses UPDATE, so its
 * append-only triggers are lifted for the one backfill and put back exactly as they were.
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

const MAIN = 'Main warehouse';
const HOLDING = ['approved', 'in_progress'];

// The SKU key as the app computes it (sku.ts); copied because migrations never import app code.
const normalise = (value: string) => value.trim().replace(/\s+/g, ' ').toLowerCase();
const part = (value: string) => normalise(value).replace(/[\\|]/g, (c) => `\\${c}`);
const skuKey = (type: string, length: string) => `${part(type)}|${part(length)}`;

async function dropLedgerTriggers(knex: Knex) {
  if (isPostgres(knex)) {
    await knex.raw('DROP TRIGGER IF EXISTS inventory_movements_append_only ON inventory_movements');
    return;
  }
  await knex.raw('DROP TRIGGER IF EXISTS inventory_movements_no_update');
}

async function createLedgerTriggers(knex: Knex) {
  if (isPostgres(knex)) {
    await knex.raw(`
      CREATE TRIGGER inventory_movements_append_only
      BEFORE UPDATE OR DELETE ON inventory_movements
      FOR EACH ROW EXECUTE FUNCTION inventory_movements_append_only()`);
    return;
  }
  await knex.raw(`
    CREATE TRIGGER inventory_movements_no_update BEFORE UPDATE ON inventory_movements
    BEGIN SELECT RAISE(ABORT, 'inventory_movements is append-only: UPDATE is not allowed'); END`);
}

export async function up(knex: Knex): Promise<void> {
  const now = new Date().toISOString();
  let main = await knex('locations').where({ is_default: true }).first();
  if (!main) {
    [main] = await knex('locations')
      .insert({
        name: MAIN,
        kind: 'warehouse',
        holder_user_id: null,
        active: true,
        is_default: true,
        created_at: now,
        updated_at: now,
      })
      .returning('*');
  }
  const mainId = Number(main.id);

  await dropLedgerTriggers(knex);
  await knex('inventory_movements').whereNull('location_id').update({ location_id: mainId });
  await createLedgerTriggers(knex);

  await knex.raw(
    `INSERT INTO location_stock (location_id, sku_key, cable_type, cable_length, on_hand, reserved, created_at, updated_at)
     SELECT ?, sku_key, cable_type, cable_length, on_hand, 0, created_at, updated_at FROM inventory_stock`,
    [mainId],
  );
  await knex('tickets').whereNull('source_location_id').update({ source_location_id: mainId });

  // Approved requests not yet fulfilled hold what they were granted, a page of requests at a time.
  let after = 0;
  for (;;) {
    const items: {
      ticket_id: number;
      position: number;
      cable_type: string;
      cable_length: string;
      quantity: number;
      approved_quantity: number | null;
    }[] = await knex('ticket_items as i')
      .join('tickets as t', 't.id', 'i.ticket_id')
      .whereIn('t.status', HOLDING)
      .where('t.id', '>', after)
      .where('t.id', '<=', after + 5000)
      .select('i.ticket_id', 'i.position', 'i.cable_type', 'i.cable_length', 'i.quantity', 'i.approved_quantity');
    const rows = items
      .map((i) => ({
        ticket_id: i.ticket_id,
        source_line: i.position,
        location_id: mainId,
        sku_key: skuKey(i.cable_type, i.cable_length),
        cable_type: i.cable_type,
        cable_length: i.cable_length,
        quantity: i.approved_quantity ?? i.quantity,
        status: 'open',
        created_at: now,
      }))
      .filter((r) => r.quantity > 0);
    for (let n = 0; n < rows.length; n += 500) await knex('stock_reservations').insert(rows.slice(n, n + 500));
    after += 5000;
    const more = await knex('tickets').whereIn('status', HOLDING).where('id', '>', after).first('id');
    if (!more) break;
  }
  const held: { sku_key: string; cable_type: string; cable_length: string; n: number | string }[] = await knex(
    'stock_reservations',
  )
    .where({ status: 'open', location_id: mainId })
    .groupBy('sku_key')
    .select(
      'sku_key',
      knex.raw('min(cable_type) as cable_type'),
      knex.raw('min(cable_length) as cable_length'),
      knex.raw('sum(quantity) as n'),
    );
  for (const h of held) {
    const n = Number(h.n);
    const sku = { sku_key: h.sku_key, cable_type: h.cable_type, cable_length: h.cable_length };
    await knex('location_stock')
      .insert({ location_id: mainId, ...sku, on_hand: 0, reserved: n, created_at: now, updated_at: now })
      .onConflict(['location_id', 'sku_key'])
      .merge({ reserved: n });
    await knex('inventory_stock')
      .insert({ ...sku, on_hand: 0, reserved: n, reorder_threshold: null, last_alert_at: null, created_at: now, updated_at: now })
      .onConflict('sku_key')
      .merge({ reserved: n });
  }

  await knex.raw(
    `INSERT INTO reorder_rules (location_id, sku_key, cable_type, cable_length, min_quantity, max_quantity, pack_multiple, created_at, updated_at)
     SELECT ?, sku_key, cable_type, cable_length, reorder_threshold, CASE WHEN reorder_threshold > 0 THEN reorder_threshold * 2 ELSE 1 END, NULL, ?, ?
     FROM inventory_stock WHERE reorder_threshold IS NOT NULL`,
    [mainId, now, now],
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex('reorder_suggestions').delete();
  await knex('reorder_rules').delete();
  await knex('stock_reservations').delete();
  await knex('stock_transfers').delete();
  await knex('inventory_stock').update({ reserved: 0 });
  await knex('location_stock').delete();
  await knex('tickets').update({ source_location_id: null });
  await dropLedgerTriggers(knex);
  await knex('inventory_movements').update({ location_id: null });
  await createLedgerTriggers(knex);
  await knex('locations').where({ is_default: true, name: MAIN }).delete();
}
