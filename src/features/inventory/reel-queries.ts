import { randomBytes } from 'node:crypto';
import type { Db, Trx } from '../../db/index.ts';
import type { LengthUnit } from '../../lib/length.ts';

type Q = Db | Trx;

export interface BulkSkuRow {
  sku_key: string;
  cable_type: string;
  unit: LengthUnit;
  created_at: Date | string;
}

export type ReelStatus = 'active' | 'scrapped';

export interface ReelRow {
  id: number;
  code: string;
  sku_key: string;
  /** The bulk SKU's spelling and unit (joined). */
  cable_type: string;
  unit: LengthUnit;
  location_id: number;
  location_name: string;
  starting_mm: number;
  remaining_mm: number;
  lot: string | null;
  receipt_id: number | null;
  status: ReelStatus;
  created_at: Date | string;
  updated_at: Date | string;
}

/** "R-000123": the id padded to six digits (seven and more once past a million reels). */
export const reelCode = (id: number): string => `R-${String(id).padStart(6, '0')}`;

/** PostgreSQL returns bigint as a string; both databases leave here with numbers. */
const reelRow = (row: ReelRow): ReelRow => ({
  ...row,
  id: Number(row.id),
  location_id: Number(row.location_id),
  starting_mm: Number(row.starting_mm),
  remaining_mm: Number(row.remaining_mm),
  receipt_id: row.receipt_id === null ? null : Number(row.receipt_id),
});

// ---- bulk SKUs ------------------------------------------------------------------------------------

export const findBulkSku = (q: Q, skuKey: string): Promise<BulkSkuRow | undefined> =>
  q('bulk_skus').where({ sku_key: skuKey }).first();

export const bulkSkusByKeys = (q: Q, keys: string[]): Promise<BulkSkuRow[]> =>
  keys.length ? q('bulk_skus').whereIn('sku_key', [...new Set(keys)]) : Promise.resolve([]);

export const listBulkSkus = (q: Q): Promise<BulkSkuRow[]> => q('bulk_skus').orderBy('sku_key');

/**
 * The bulk SKU of a cable type, created with `unit` when it is new (the first receipt sets the unit;
 * later ones keep it). Racing first receipts agree through the primary key.
 */
export async function ensureBulkSku(trx: Trx, sku: { sku_key: string; cable_type: string }, unit: LengthUnit, now: string) {
  await trx('bulk_skus')
    .insert({ ...sku, unit, created_at: now })
    .onConflict('sku_key')
    .ignore();
  return (await findBulkSku(trx, sku.sku_key)) as BulkSkuRow;
}

// ---- reels --------------------------------------------------------------------------------------

/**
 * A new reel at its starting length; its code comes from its id, set in the same transaction (the
 * placeholder is unique, so two inserts never collide on it). remaining_mm starts at 0: the receipt
 * movement that follows brings it to the starting length through the engine like every other change.
 */
export async function insertReel(
  trx: Trx,
  reel: { sku_key: string; location_id: number; starting_mm: number; lot: string | null; receipt_id: number | null },
  now: string,
): Promise<{ id: number; code: string }> {
  const [row] = await trx('reels')
    .insert({
      ...reel,
      code: `new-${randomBytes(8).toString('hex')}`,
      remaining_mm: 0,
      status: 'active',
      created_at: now,
      updated_at: now,
    })
    .returning('id');
  const id = Number((row as { id: number }).id);
  const code = reelCode(id);
  await trx('reels').where({ id }).update({ code });
  return { id, code };
}

const reelsWithNames = (q: Q) =>
  q('reels as r')
    .join('bulk_skus as b', 'b.sku_key', 'r.sku_key')
    .join('locations as l', 'l.id', 'r.location_id')
    .select('r.*', 'b.cable_type', 'b.unit', 'l.name as location_name');

export async function findReelByCode(q: Q, code: string): Promise<ReelRow | undefined> {
  const row = await reelsWithNames(q).where('r.code', code).first();
  return row ? reelRow(row) : undefined;
}

export async function reelsWithIds(q: Q, ids: number[]): Promise<ReelRow[]> {
  if (ids.length === 0) return [];
  return (
    await reelsWithNames(q)
      .whereIn('r.id', [...new Set(ids)])
      .orderBy('r.id')
  ).map(reelRow);
}

export interface ReelFilter {
  location_id?: number;
  sku_key?: string;
  /** Scrapped and empty reels too (the default list shows the pickable ones). */
  all?: boolean;
  receipt_id?: number;
  cursor?: number;
  limit: number;
}

/** Reels by id (oldest first): keyset pages of `limit` rows after `cursor`. */
export async function listReels(q: Q, f: ReelFilter): Promise<ReelRow[]> {
  const query = reelsWithNames(q).orderBy('r.id').limit(f.limit);
  if (f.location_id) query.where('r.location_id', f.location_id);
  if (f.sku_key) query.where('r.sku_key', f.sku_key);
  if (f.receipt_id) query.where('r.receipt_id', f.receipt_id);
  if (!f.all) query.where('r.status', 'active').where('r.remaining_mm', '>', 0);
  if (f.cursor) query.where('r.id', '>', f.cursor);
  return (await query).map(reelRow);
}

/**
 * Moves one reel's remaining length by `delta` (and to `locationId` when given): a conditional update
 * that holds remaining_mm >= 0 and takes nothing from a scrapped reel. Returns false when the
 * condition failed (the caller names the reel in a 409). On PostgreSQL the row lock queues racing
 * cuts, and the condition is re-checked on the committed row.
 */
export async function changeReel(
  trx: Trx,
  reelId: number,
  delta: number,
  locationId: number | undefined,
  now: string,
): Promise<boolean> {
  const query = trx('reels').where({ id: reelId }).andWhereRaw('remaining_mm + ? >= 0', [delta]);
  if (delta < 0) query.where({ status: 'active' });
  const changed = await query.update({
    remaining_mm: trx.raw('remaining_mm + ?', [delta]),
    ...(locationId === undefined ? {} : { location_id: locationId }),
    updated_at: now,
  });
  return changed > 0;
}

/** Marks a reel scrapped (its remaining length was written off by a movement first). */
export async function markReelScrapped(trx: Trx, reelId: number, now: string): Promise<boolean> {
  return (await trx('reels').where({ id: reelId, status: 'active' }).update({ status: 'scrapped', updated_at: now })) > 0;
}

/** Sum of the reels' remaining length per (location, SKU): the property test's other side. */
export async function reelTotals(q: Q): Promise<{ location_id: number; sku_key: string; remaining_mm: number }[]> {
  const rows: { location_id: number; sku_key: string; remaining_mm: number | string }[] = await q('reels')
    .groupBy('location_id', 'sku_key')
    .select('location_id', 'sku_key', q.raw('sum(remaining_mm) as remaining_mm'));
  return rows.map((r) => ({ location_id: Number(r.location_id), sku_key: r.sku_key, remaining_mm: Number(r.remaining_mm) }));
}

/** The reels of some receipts (the receipt list and its label sheet), by id. */
export async function reelsOfReceipts(q: Q, receiptIds: number[]): Promise<ReelRow[]> {
  if (receiptIds.length === 0) return [];
  return (
    await reelsWithNames(q)
      .whereIn('r.receipt_id', [...new Set(receiptIds)])
      .orderBy('r.id')
  ).map(reelRow);
}

/**
 * Takes the reel's row lock while checking it is as read (same remaining, active): a move, count or
 * scrap computes its movement from what it read, so a cut committed in between makes it a 409
 * instead of a movement of a stale length.
 */
export async function holdReel(trx: Trx, reel: { id: number; remaining_mm: number }, now: string): Promise<boolean> {
  return (
    (await trx('reels').where({ id: reel.id, remaining_mm: reel.remaining_mm, status: 'active' }).update({ updated_at: now })) > 0
  );
}

export interface ReelMovementRow {
  id: number;
  movement_type: string;
  source_type: string;
  source_id: number | null;
  location_id: number | null;
  location_name: string | null;
  quantity_delta: number;
  actor_user_id: number | null;
  actor_username: string | null;
  notes: string | null;
  created_at: Date | string;
}

/**
 * A reel's latest `limit` ledger rows, shown oldest first, with who and where (the index on
 * (reel_id, id)): a reel cut more often than that shows its latest movements, not its first.
 */
export async function reelMovements(q: Q, reelId: number, limit = 500): Promise<ReelMovementRow[]> {
  const rows: ReelMovementRow[] = await q('inventory_movements as m')
    .leftJoin('users as u', 'u.id', 'm.actor_user_id')
    .leftJoin('locations as l', 'l.id', 'm.location_id')
    .where('m.reel_id', reelId)
    .orderBy('m.id', 'desc')
    .limit(limit)
    .select(
      'm.id',
      'm.movement_type',
      'm.source_type',
      'm.source_id',
      'm.location_id',
      'l.name as location_name',
      'm.quantity_delta',
      'm.actor_user_id',
      'u.username as actor_username',
      'm.notes',
      'm.created_at',
    );
  return rows.reverse().map((r) => ({
    ...r,
    id: Number(r.id),
    quantity_delta: Number(r.quantity_delta),
    location_id: r.location_id === null ? null : Number(r.location_id),
    source_id: r.source_id === null ? null : Number(r.source_id),
  }));
}
