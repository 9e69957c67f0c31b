import type { Db, Trx } from '../../db/index.ts';
import type { MovementType, SourceType } from './schema.ts';

type Q = Db | Trx;

export interface StockRow {
  sku_key: string;
  cable_type: string;
  cable_length: string;
  on_hand: number;
  /** Promised to approved requests across every location. */
  reserved: number;
  reorder_threshold: number | null;
  last_alert_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

export interface MovementRow {
  id: number;
  movement_type: MovementType;
  source_type: SourceType;
  source_id: number | null;
  source_line: number;
  location_id: number | null;
  location_name: string | null;
  actor_user_id: number | null;
  actor_username: string | null;
  sku_key: string;
  cable_type: string;
  cable_length: string;
  quantity_delta: number;
  notes: string | null;
  /** The reel of a bulk-cable movement (its quantity_delta is millimetres). */
  reel_id: number | null;
  reel_code: string | null;
  /** A bulk SKU's display unit (its quantity_delta is millimetres); null for a counted SKU. */
  bulk_unit: 'ft' | 'm' | null;
  created_at: Date | string;
}

export interface ReceiptRow {
  id: number;
  vendor: string;
  po_number: string | null;
  notes: string | null;
  received_by_id: number;
  received_by_username: string;
  created_at: Date | string;
  updated_at: Date | string;
}

export interface ReceiptItemRow {
  id: number;
  receipt_id: number;
  position: number;
  cable_type: string;
  cable_length: string;
  quantity: number;
}

/** A ledger row to write; `sku_key` is computed by the caller. */
export interface NewMovement {
  movement_type: MovementType;
  source_type: SourceType;
  source_id: number | null;
  source_line: number;
  location_id: number;
  actor_user_id: number | null;
  sku_key: string;
  cable_type: string;
  cable_length: string;
  quantity_delta: number;
  notes: string | null;
  reel_id: number | null;
  created_at: string;
}

/** PostgreSQL returns bigint as a string; both databases leave here with numbers. */
const stockRow = (row: StockRow): StockRow => ({
  ...row,
  on_hand: Number(row.on_hand),
  reserved: Number(row.reserved ?? 0),
  reorder_threshold: row.reorder_threshold === null ? null : Number(row.reorder_threshold),
});

// ---- the ledger and the stock table ---------------------------------------------------------

/** Appends ledger rows; returns their ids in order. */
export async function insertMovements(q: Q, rows: NewMovement[]): Promise<number[]> {
  if (rows.length === 0) return [];
  const ids: { id: number }[] = await q('inventory_movements').insert(rows).returning('id');
  return ids.map((r) => Number(r.id));
}

/**
 * Adds `delta` to one SKU's total on-hand (and `reserved` to its total reserved) across locations,
 * creating the row (with this spelling for display) when the SKU is new, and returns the row after
 * the change. On PostgreSQL the upsert holds the row lock until the transaction ends, so concurrent
 * movements on one SKU queue up instead of losing updates.
 */
export async function addToStock(
  trx: Trx,
  sku: { sku_key: string; cable_type: string; cable_length: string },
  delta: number,
  now: string,
  reserved = 0,
): Promise<StockRow> {
  const [row] = await trx('inventory_stock')
    .insert({ ...sku, on_hand: delta, reserved, reorder_threshold: null, last_alert_at: null, created_at: now, updated_at: now })
    .onConflict('sku_key')
    .merge({
      on_hand: trx.raw('inventory_stock.on_hand + excluded.on_hand'),
      reserved: trx.raw('inventory_stock.reserved + excluded.reserved'),
      updated_at: now,
    })
    .returning('*');
  return stockRow(row as StockRow);
}

/** Sets (or clears) a SKU's reorder threshold, creating the SKU at zero when it is new. */
export async function upsertThreshold(
  q: Q,
  sku: { sku_key: string; cable_type: string; cable_length: string },
  threshold: number | null,
  now: string,
): Promise<StockRow> {
  const [row] = await q('inventory_stock')
    .insert({ ...sku, on_hand: 0, reorder_threshold: threshold, last_alert_at: null, created_at: now, updated_at: now })
    .onConflict('sku_key')
    .merge({ reorder_threshold: threshold, updated_at: now })
    .returning('*');
  return stockRow(row as StockRow);
}

/**
 * Claims the right to send a low-stock alert: a conditional update that succeeds for at most one
 * transaction per SKU per window (the last alert is older than `cutoff`, or there was none).
 */
export async function claimLowStockAlert(trx: Trx, skuKey: string, now: string, cutoff: string): Promise<boolean> {
  const changed = await trx('inventory_stock')
    .where({ sku_key: skuKey })
    .andWhere((w) => w.whereNull('last_alert_at').orWhere('last_alert_at', '<=', cutoff))
    .update({ last_alert_at: now });
  return changed > 0;
}

export async function stockByKeys(q: Q, keys: string[]): Promise<StockRow[]> {
  if (keys.length === 0) return [];
  const rows: StockRow[] = await q('inventory_stock').whereIn('sku_key', [...new Set(keys)]);
  return rows.map(stockRow);
}

export interface StockFilter {
  /** Rows at zero too. */
  includeZero: boolean;
  /** Zero rows that carry a threshold too (the page shows a SKU someone watches even when empty). */
  keepWatched?: boolean;
}

/** Every SKU in key order, each with its bulk SKU's unit (null when counted): O(SKUs), whatever the ledger's size. */
export async function listStock(q: Q, f: StockFilter): Promise<(StockRow & { bulk_unit: 'ft' | 'm' | null })[]> {
  const query = q('inventory_stock as s')
    .leftJoin('bulk_skus as b', 'b.sku_key', 's.sku_key')
    .select('s.*', 'b.unit as bulk_unit')
    .orderBy('s.sku_key');
  if (!f.includeZero) {
    query.where((w) => {
      w.whereNot('s.on_hand', 0).orWhereNot('s.reserved', 0);
      if (f.keepWatched) w.orWhereNotNull('s.reorder_threshold');
    });
  }
  return (await query).map((row: StockRow & { bulk_unit: 'ft' | 'm' | null }) => ({
    ...stockRow(row),
    bulk_unit: row.bulk_unit,
  }));
}

export interface MovementFilter {
  movement_type?: MovementType;
  location_id?: number;
  source_type?: SourceType;
  source_id?: number;
  /** Rows older than this id (keyset, newest first). */
  cursor?: number;
  limit: number;
}

/** Movements with the actor's and location's names, and for bulk cable the reel's code and the SKU's unit. */
const movementsWithNames = (q: Q) =>
  q('inventory_movements as m')
    .leftJoin('users as u', 'u.id', 'm.actor_user_id')
    .leftJoin('locations as l', 'l.id', 'm.location_id')
    .leftJoin('reels as r', 'r.id', 'm.reel_id')
    .leftJoin('bulk_skus as b', 'b.sku_key', 'm.sku_key')
    .select('m.*', 'u.username as actor_username', 'l.name as location_name', 'r.code as reel_code', 'b.unit as bulk_unit');

/** Newest first, by id: `limit` rows (callers ask one more to know whether a next page exists). */
export function listMovements(q: Q, f: MovementFilter): Promise<MovementRow[]> {
  const query = movementsWithNames(q).orderBy('m.id', 'desc').limit(f.limit);
  if (f.movement_type) query.where('m.movement_type', f.movement_type);
  if (f.location_id) query.where('m.location_id', f.location_id);
  if (f.source_type) query.where('m.source_type', f.source_type);
  if (f.source_id !== undefined) query.where('m.source_id', f.source_id);
  if (f.cursor) query.where('m.id', '<', f.cursor);
  return query;
}

export const findMovement = (q: Q, id: number): Promise<MovementRow | undefined> =>
  movementsWithNames(q).where('m.id', id).first();

// ---- receipts ---------------------------------------------------------------------------------

export async function insertReceipt(
  trx: Trx,
  receipt: { vendor: string; po_number: string | null; notes: string | null; received_by_id: number; now: string },
  items: { cable_type: string; cable_length: string; quantity: number }[],
): Promise<number> {
  const { now, ...fields } = receipt;
  const [row] = await trx('cable_receipts')
    .insert({ ...fields, created_at: now, updated_at: now })
    .returning('id');
  const id = Number((row as { id: number }).id);
  if (items.length)
    await trx('cable_receipt_items').insert(items.map((item, position) => ({ receipt_id: id, position, ...item })));
  return id;
}

const receiptsWithPeople = (q: Q) =>
  q('cable_receipts as r').join('users as u', 'u.id', 'r.received_by_id').select('r.*', 'u.username as received_by_username');

export const findReceipt = (q: Q, id: number): Promise<ReceiptRow | undefined> => receiptsWithPeople(q).where('r.id', id).first();

export function listReceipts(q: Q, f: { cursor?: number; limit: number }): Promise<ReceiptRow[]> {
  const query = receiptsWithPeople(q).orderBy('r.id', 'desc').limit(f.limit);
  if (f.cursor) query.where('r.id', '<', f.cursor);
  return query;
}

export const receiptItemsFor = (q: Q, ids: number[]): Promise<ReceiptItemRow[]> =>
  ids.length ? q('cable_receipt_items').whereIn('receipt_id', ids).orderBy(['receipt_id', 'position']) : Promise.resolve([]);
