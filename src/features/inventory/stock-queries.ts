import type { Db, Trx } from '../../db/index.ts';

type Q = Db | Trx;

/** What one (location, SKU) holds. */
export interface LocationStockRow {
  location_id: number;
  sku_key: string;
  cable_type: string;
  cable_length: string;
  on_hand: number;
  reserved: number;
  created_at: Date | string;
  updated_at: Date | string;
}

export interface Sku {
  sku_key: string;
  cable_type: string;
  cable_length: string;
}

const stockRow = (row: LocationStockRow): LocationStockRow => ({
  ...row,
  location_id: Number(row.location_id),
  on_hand: Number(row.on_hand),
  reserved: Number(row.reserved),
});

/**
 * Moves one (location, SKU) by `onHand` and `reserved`, returning the row after. With `guard`, the
 * change happens only while available (on_hand - reserved) stays >= 0 afterwards: a conditional
 * update, so of two transactions racing for the last pieces one wins and the other gets undefined
 * (PostgreSQL re-checks the condition on the row the winner committed). Without it the row is
 * created when new and always moved.
 */
export async function changeLocationStock(
  trx: Trx,
  locationId: number,
  sku: Sku,
  onHand: number,
  reserved: number,
  guard: boolean,
  now: string,
): Promise<LocationStockRow | undefined> {
  if (guard) {
    const rows = await trx('location_stock')
      .where({ location_id: locationId, sku_key: sku.sku_key })
      .andWhereRaw('on_hand + ? - (reserved + ?) >= 0', [onHand, reserved])
      .update({
        on_hand: trx.raw('on_hand + ?', [onHand]),
        reserved: trx.raw('reserved + ?', [reserved]),
        updated_at: now,
      })
      .returning('*');
    return rows[0] ? stockRow(rows[0] as LocationStockRow) : undefined;
  }
  const [row] = await trx('location_stock')
    .insert({ location_id: locationId, ...sku, on_hand: onHand, reserved, created_at: now, updated_at: now })
    .onConflict(['location_id', 'sku_key'])
    .merge({
      on_hand: trx.raw('location_stock.on_hand + excluded.on_hand'),
      reserved: trx.raw('location_stock.reserved + excluded.reserved'),
      updated_at: now,
    })
    .returning('*');
  return stockRow(row as LocationStockRow);
}

export async function locationStockRow(q: Q, locationId: number, skuKey: string): Promise<LocationStockRow | undefined> {
  const row = await q('location_stock').where({ location_id: locationId, sku_key: skuKey }).first();
  return row ? stockRow(row) : undefined;
}

export async function locationStockByKeys(q: Q, locationId: number, keys: string[]): Promise<LocationStockRow[]> {
  if (keys.length === 0) return [];
  return (
    await q('location_stock')
      .where({ location_id: locationId })
      .whereIn('sku_key', [...new Set(keys)])
  ).map(stockRow);
}

/**
 * One location's rows in key order, each with its bulk SKU's unit (null for counted SKUs): O(rows
 * returned), whatever the size of the ledger.
 */
export async function listLocationStock(
  q: Q,
  locationId: number,
  includeZero: boolean,
): Promise<(LocationStockRow & { bulk_unit: 'ft' | 'm' | null })[]> {
  const query = q('location_stock as s')
    .leftJoin('bulk_skus as b', 'b.sku_key', 's.sku_key')
    .select('s.*', 'b.unit as bulk_unit')
    .where('s.location_id', locationId)
    .orderBy('s.sku_key');
  if (!includeZero) query.where((w) => w.whereNot('s.on_hand', 0).orWhereNot('s.reserved', 0));
  return (await query).map((row: LocationStockRow & { bulk_unit: 'ft' | 'm' | null }) => ({
    ...stockRow(row),
    bulk_unit: row.bulk_unit,
  }));
}

// ---- reservations -----------------------------------------------------------------------------------

export interface ReservationRow {
  id: number;
  ticket_id: number;
  source_line: number;
  location_id: number;
  sku_key: string;
  cable_type: string;
  cable_length: string;
  /** Pieces (a count) of a counted SKU, or length (mm) of a bulk SKU: `pieces` cuts of `piece_mm`. */
  quantity: number;
  kind: 'pieces' | 'length';
  pieces: number | null;
  piece_mm: number | null;
  status: 'open' | 'released' | 'consumed';
}

const reservationRow = (r: ReservationRow): ReservationRow => ({
  ...r,
  id: Number(r.id),
  ticket_id: Number(r.ticket_id),
  location_id: Number(r.location_id),
  quantity: Number(r.quantity),
  pieces: r.pieces === null ? null : Number(r.pieces),
  piece_mm: r.piece_mm === null ? null : Number(r.piece_mm),
});

export type NewReservation = Omit<ReservationRow, 'id' | 'status' | 'kind' | 'pieces' | 'piece_mm'> &
  Partial<Pick<ReservationRow, 'kind' | 'pieces' | 'piece_mm'>>;

export async function insertReservations(trx: Trx, rows: NewReservation[], now: string): Promise<void> {
  if (rows.length === 0) return;
  await trx('stock_reservations').insert(rows.map((r) => ({ ...r, status: 'open', created_at: now, closed_at: null })));
}

/** Closes a request's open reservations and returns the rows it closed (none when already closed). */
export async function closeReservations(
  trx: Trx,
  ticketId: number,
  status: 'released' | 'consumed',
  now: string,
): Promise<ReservationRow[]> {
  const rows = await trx('stock_reservations')
    .where({ ticket_id: ticketId, status: 'open' })
    .update({ status, closed_at: now })
    .returning('*');
  return (rows as ReservationRow[]).map(reservationRow);
}

export async function openReservationsOf(q: Q, ticketId: number): Promise<ReservationRow[]> {
  return (await q('stock_reservations').where({ ticket_id: ticketId, status: 'open' }).orderBy(['source_line', 'kind'])).map(
    reservationRow,
  );
}

// ---- transfers --------------------------------------------------------------------------------------

export interface TransferRow {
  id: number;
  from_location_id: number;
  to_location_id: number;
  notes: string | null;
  created_by_id: number | null;
  created_by_username: string | null;
  created_at: Date | string;
}

export async function insertTransfer(
  trx: Trx,
  row: { from_location_id: number; to_location_id: number; notes: string | null; created_by_id: number; created_at: string },
): Promise<number> {
  const [created] = await trx('stock_transfers').insert(row).returning('id');
  return Number((created as { id: number }).id);
}

const transfersWithPeople = (q: Q) =>
  q('stock_transfers as t').leftJoin('users as u', 'u.id', 't.created_by_id').select('t.*', 'u.username as created_by_username');

export const findTransfer = (q: Q, id: number): Promise<TransferRow | undefined> =>
  transfersWithPeople(q).where('t.id', id).first();

export const recentTransfers = (q: Q, limit: number): Promise<TransferRow[]> =>
  transfersWithPeople(q).orderBy('t.id', 'desc').limit(limit);

/** The incoming lines of transfers (what moved, once per line). */
export async function transferLines(q: Q, ids: number[]) {
  if (ids.length === 0) return [];
  return q('inventory_movements')
    .where({ source_type: 'stock_transfer', movement_type: 'transfer_in' })
    .whereIn('source_id', ids)
    .orderBy(['source_id', 'source_line'])
    .select('source_id', 'cable_type', 'cable_length', 'quantity_delta');
}

// ---- reorder rules and suggestions -------------------------------------------------------------------

export interface RuleRow extends Sku {
  location_id: number;
  min_quantity: number;
  max_quantity: number;
  pack_multiple: number | null;
}

const ruleRow = (r: RuleRow): RuleRow => ({
  ...r,
  location_id: Number(r.location_id),
  min_quantity: Number(r.min_quantity),
  max_quantity: Number(r.max_quantity),
  pack_multiple: r.pack_multiple === null ? null : Number(r.pack_multiple),
});

export async function upsertRule(q: Q, rule: RuleRow, now: string): Promise<void> {
  await q('reorder_rules')
    .insert({ ...rule, created_at: now, updated_at: now })
    .onConflict(['location_id', 'sku_key'])
    .merge({
      min_quantity: rule.min_quantity,
      max_quantity: rule.max_quantity,
      pack_multiple: rule.pack_multiple,
      updated_at: now,
    });
}

export async function rulesFor(q: Q, pairs: { location_id: number; sku_key: string }[]): Promise<RuleRow[]> {
  if (pairs.length === 0) return [];
  const rows = await q('reorder_rules').where((w) => {
    for (const p of pairs) w.orWhere({ location_id: p.location_id, sku_key: p.sku_key });
  });
  return rows.map(ruleRow);
}

export async function listRules(q: Q, locationId?: number): Promise<RuleRow[]> {
  const query = q('reorder_rules').orderBy(['location_id', 'sku_key']).limit(5000);
  if (locationId) query.where({ location_id: locationId });
  return (await query).map(ruleRow);
}

export interface SuggestionRow extends Sku {
  id: number;
  location_id: number;
  kind: 'purchase' | 'transfer';
  from_location_id: number | null;
  quantity: number;
  status: 'open' | 'done' | 'closed';
  transfer_id: number | null;
  created_at: Date | string;
  closed_at: Date | string | null;
}

const suggestionRow = (r: SuggestionRow): SuggestionRow => ({
  ...r,
  id: Number(r.id),
  location_id: Number(r.location_id),
  from_location_id: r.from_location_id === null ? null : Number(r.from_location_id),
  quantity: Number(r.quantity),
  transfer_id: r.transfer_id === null ? null : Number(r.transfer_id),
});

/**
 * Opens a suggestion unless one is open for the pair already (the partial unique index decides a
 * race without aborting the transaction); the new row, or undefined.
 */
export async function openSuggestion(
  trx: Trx,
  s: Sku & { location_id: number; kind: string; from_location_id: number | null; quantity: number },
  now: string,
): Promise<SuggestionRow | undefined> {
  const result = await trx.raw(
    `INSERT INTO reorder_suggestions
       (location_id, sku_key, cable_type, cable_length, kind, from_location_id, quantity, status, transfer_id, created_at, closed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'open', NULL, ?, NULL)
     ON CONFLICT (location_id, sku_key) WHERE status = 'open' DO NOTHING
     RETURNING *`,
    [s.location_id, s.sku_key, s.cable_type, s.cable_length, s.kind, s.from_location_id, s.quantity, now],
  );
  const rows = (Array.isArray(result) ? result : result.rows) as SuggestionRow[];
  return rows[0] ? suggestionRow(rows[0]) : undefined;
}

export const closeSuggestions = (trx: Trx, pairs: { location_id: number; sku_key: string }[], now: string) =>
  pairs.length === 0
    ? Promise.resolve(0)
    : trx('reorder_suggestions')
        .where({ status: 'open' })
        .where((w) => {
          for (const p of pairs) w.orWhere({ location_id: p.location_id, sku_key: p.sku_key });
        })
        .update({ status: 'closed', closed_at: now });

export async function finishSuggestion(trx: Trx, id: number, transferId: number, now: string): Promise<boolean> {
  const changed = await trx('reorder_suggestions')
    .where({ id, status: 'open' })
    .update({ status: 'done', transfer_id: transferId, closed_at: now });
  return changed > 0;
}

export async function findSuggestion(q: Q, id: number): Promise<SuggestionRow | undefined> {
  const row = await q('reorder_suggestions').where({ id }).first();
  return row ? suggestionRow(row) : undefined;
}

export async function listSuggestions(
  q: Q,
  f: { status?: string; locationId?: number; limit: number },
): Promise<SuggestionRow[]> {
  const query = q('reorder_suggestions').orderBy('id', 'desc').limit(f.limit);
  if (f.status) query.where({ status: f.status });
  if (f.locationId) query.where({ location_id: f.locationId });
  return (await query).map(suggestionRow);
}

/** What open transfer suggestions ask a location to send of one SKU. */
export async function openDemandFrom(q: Q, fromLocationId: number, skuKey: string): Promise<number> {
  const row = await q('reorder_suggestions')
    .where({ status: 'open', kind: 'transfer', from_location_id: fromLocationId, sku_key: skuKey })
    .sum({ n: 'quantity' })
    .first();
  return Number(row?.n ?? 0);
}
