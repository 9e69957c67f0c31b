import { type Db, escapeLike, isPostgres, type Trx } from '../../db/index.ts';
import type { LengthUnit } from '../../lib/length.ts';
import type { PoolReel } from './cuts.ts';
import type { BulkSkuRow } from './reel-queries.ts';

type Q = Db | Trx;

/** A reel as cut planning and the fulfilment page see it. */
export interface CutReel extends PoolReel {
  sku_key: string;
  location_id: number;
  status: string;
}

const poolReel = (r: CutReel): CutReel => ({
  ...r,
  id: Number(r.id),
  location_id: Number(r.location_id),
  remaining_mm: Number(r.remaining_mm),
});

/**
 * The pickable reels of a bulk SKU at a location that hold `minMm`, least remaining first (best fit):
 * a range read of the partial index reels_best_fit (sku_key, location_id, remaining_mm) WHERE status
 * = 'active' AND remaining_mm > 0, stopped after `limit` rows. The index's own conditions are
 * written out so that PostgreSQL can use it with any bound values. With `lock` on PostgreSQL the rows
 * are locked for this transaction and rows another transaction holds are skipped (FOR UPDATE SKIP
 * LOCKED): two fulfilments never wait on each other's reels, and each plans on reels no one else can
 * cut until it commits.
 */
export function bestFitQuery(q: Q, skuKey: string, locationId: number, minMm: number, limit: number, lock = false) {
  const query = q('reels')
    .select('id', 'code', 'remaining_mm', 'sku_key', 'location_id', 'status')
    .where({ sku_key: skuKey, location_id: locationId, status: 'active' })
    .where('remaining_mm', '>', 0)
    .where('remaining_mm', '>=', minMm)
    .orderBy([
      { column: 'remaining_mm', order: 'asc' },
      { column: 'id', order: 'asc' },
    ])
    .limit(limit);
  if (lock && isPostgres(q as Db)) query.forUpdate().skipLocked();
  return query;
}

export async function bestFitReels(
  q: Q,
  skuKey: string,
  locationId: number,
  minMm: number,
  limit: number,
  lock = false,
): Promise<CutReel[]> {
  return ((await bestFitQuery(q, skuKey, locationId, minMm, limit, lock)) as CutReel[]).map(poolReel);
}

/**
 * Reels by code (as typed: compared in upper case), in id order; with `lock` on PostgreSQL locked for
 * this transaction, waiting for a transaction that holds one (its committed remaining is what is read).
 */
export async function reelsByCodes(q: Q, codes: string[], lock = false): Promise<CutReel[]> {
  if (codes.length === 0) return [];
  const query = q('reels')
    .select('id', 'code', 'remaining_mm', 'sku_key', 'location_id', 'status')
    .whereIn('code', [...new Set(codes.map((c) => c.trim().toUpperCase()))])
    .orderBy('id');
  if (lock && isPostgres(q as Db)) query.forUpdate();
  return ((await query) as CutReel[]).map(poolReel);
}

/** The bulk SKUs among these keys that have a pickable reel at a location (one statement). */
export async function bulkSkusWithReelsAt(q: Q, locationId: number, skuKeys: string[]): Promise<BulkSkuRow[]> {
  if (skuKeys.length === 0) return [];
  return q('bulk_skus as b')
    .select('b.*')
    .whereIn('b.sku_key', [...new Set(skuKeys)])
    .whereExists((reels) =>
      reels
        .select(q.raw('1'))
        .from('reels as r')
        .whereRaw('r.sku_key = b.sku_key')
        .where({ 'r.location_id': locationId, 'r.status': 'active' })
        .where('r.remaining_mm', '>', 0),
    );
}

/** The longest pickable reel's remaining length (0 when there is none), for a refusal's sentence. */
export async function longestPickable(q: Q, skuKey: string, locationId: number): Promise<number> {
  const row = await q('reels')
    .where({ sku_key: skuKey, location_id: locationId, status: 'active' })
    .where('remaining_mm', '>', 0)
    .max({ mm: 'remaining_mm' })
    .first();
  return Number(row?.mm ?? 0);
}

interface CountedStock {
  sku_key: string;
  cable_type: string;
  cable_length: string;
  on_hand: number;
  reserved: number;
}

/**
 * Stock at a location of the cable types whose bulk SKU keys are given ("cat6|": every length, the
 * bulk SKU's own '' included), on hand and reserved, in one statement.
 */
export async function stockOfTypes(q: Q, locationId: number, bulkKeys: string[]): Promise<CountedStock[]> {
  if (bulkKeys.length === 0) return [];
  const rows: CountedStock[] = await q('location_stock')
    .select('sku_key', 'cable_type', 'cable_length', 'on_hand', 'reserved')
    .where({ location_id: locationId })
    .where((w) => {
      for (const key of bulkKeys) w.orWhereRaw("sku_key LIKE ? ESCAPE '\\'", [`${escapeLike(key)}%`]);
    })
    .orderBy('sku_key');
  return rows.map((r) => ({ ...r, on_hand: Number(r.on_hand), reserved: Number(r.reserved) }));
}

/** A cut as the ticket page shows it: which reel, how long, and what the reel has left now. */
export interface CutRow {
  item_id: number;
  piece: number;
  mm: number;
  reel_id: number;
  reel_code: string;
  reel_status: string;
  remaining_mm: number;
  unit: LengthUnit;
}

/**
 * The cuts made for these ticket items (the `ticket_cut` movements), in item and piece order; given
 * the request, each cut also says whether that request kept its reel as an offcut (the same statement).
 */
export async function cutsOfItems(q: Q, itemIds: number[], ticketId?: number): Promise<(CutRow & { kept: boolean })[]> {
  if (itemIds.length === 0) return [];
  const query = q('inventory_movements as m')
    .join('reels as r', 'r.id', 'm.reel_id')
    .join('bulk_skus as b', 'b.sku_key', 'r.sku_key')
    .where('m.source_type', 'ticket_cut')
    .whereIn('m.source_id', itemIds)
    .orderBy(['m.source_id', 'm.source_line'])
    .select(
      'm.source_id as item_id',
      'm.source_line as piece',
      'm.quantity_delta',
      'r.id as reel_id',
      'r.code as reel_code',
      'r.status as reel_status',
      'r.remaining_mm',
      'b.unit',
    );
  if (ticketId !== undefined)
    query
      .leftJoin('reel_offcut_keeps as k', (j) => j.on('k.reel_id', 'r.id').andOnVal('k.ticket_id', ticketId))
      .select('k.reel_id as kept_reel_id');
  const rows = await query;
  return rows.map((r: CutRow & { quantity_delta: number; kept_reel_id?: number | null }) => ({
    item_id: Number(r.item_id),
    piece: Number(r.piece),
    mm: -Number(r.quantity_delta),
    reel_id: Number(r.reel_id),
    reel_code: r.reel_code,
    reel_status: r.reel_status,
    remaining_mm: Number(r.remaining_mm),
    unit: r.unit,
    kept: r.kept_reel_id !== null && r.kept_reel_id !== undefined,
  }));
}

/** "Keep": this request's page and JSON stop offering the reel as an offcut (once per request and reel). */
export async function keepOffcut(q: Q, row: { ticket_id: number; reel_id: number; kept_by_id: number; created_at: string }) {
  await q('reel_offcut_keeps').insert(row).onConflict(['ticket_id', 'reel_id']).ignore();
}
