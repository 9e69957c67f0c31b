import { isUniqueViolation, nowIso, type Trx } from '../../db/index.ts';
import { conflict } from '../../http/errors.ts';
import { formatLength } from '../../lib/length.ts';
import { locationsWithIds } from '../locations/service.ts';
import { addToStock, insertMovements, type NewMovement, type StockRow } from './queries.ts';
import { changeReel, reelsWithIds } from './reel-queries.ts';
import { skuKey, skuLabel } from './sku.ts';
import { changeLocationStock, type LocationStockRow, locationStockRow, type Sku } from './stock-queries.ts';

/**
 * The one way stock changes: ledger rows, per-location stock and the totals across locations, in the
 * caller's transaction, so the ledger, location_stock and inventory_stock can never disagree.
 */

/** One line of a movement, before its SKU key is worked out. */
export interface MoveLine {
  source_line: number;
  location_id: number;
  cable_type: string;
  cable_length: string;
  quantity_delta: number;
  /** Transfers write two kinds in one set. */
  movement_type?: NewMovement['movement_type'];
  /**
   * A movement of bulk cable on one reel (quantity_delta in mm). The reel's remaining_mm moves by the
   * same amount; a `transfer_in` line also moves the reel to its location.
   */
  reel_id?: number;
}

export interface MoveSource {
  movement_type: NewMovement['movement_type'];
  source_type: NewMovement['source_type'];
  source_id: number | null;
  actor_user_id: number | null;
  notes: string | null;
}

/** What one SKU's totals looked like after a set of changes. */
export interface StockChange {
  stock: StockRow;
  delta: number;
}

/** A change to one (location, SKU): on hand and reserved. */
export interface StockDelta {
  location_id: number;
  sku: Sku;
  onHand: number;
  reserved: number;
}

export interface StockOutcome {
  /** Totals per SKU whose on-hand moved (for the low-stock alert). */
  changes: StockChange[];
  /** Each (location, SKU) after the change (for reorder rules). */
  located: LocationStockRow[];
}

export const skuOf = (cable_type: string, cable_length: string): Sku => ({
  sku_key: skuKey(cable_type, cable_length),
  cable_type,
  cable_length,
});

/**
 * Moves stock per (location, SKU) and the totals per SKU. Pairs are locked in (location, SKU) order,
 * then totals in SKU order, so two transactions cannot deadlock on PostgreSQL. With `enforce`, a change
 * that lowers available is a conditional update (available stays >= 0); every pair that would go short
 * is named in one 409 ("Not enough stock to {purpose}: Cat6 100ft at Van 1 (needs 5, 3 available)"),
 * and the throw rolls the caller's transaction back.
 */
export async function changeStock(trx: Trx, deltas: StockDelta[], enforce: boolean, purpose: string): Promise<StockOutcome> {
  const now = nowIso();
  const byPair = new Map<string, StockDelta>();
  for (const d of deltas) {
    const key = `${String(d.location_id).padStart(10, '0')}|${d.sku.sku_key}`;
    const seen = byPair.get(key);
    if (seen) {
      seen.onHand += d.onHand;
      seen.reserved += d.reserved;
    } else byPair.set(key, { ...d });
  }
  const located: LocationStockRow[] = [];
  const short: { d: StockDelta; available: number }[] = [];
  for (const key of [...byPair.keys()].sort()) {
    const d = byPair.get(key) as StockDelta;
    if (d.onHand === 0 && d.reserved === 0) continue;
    const guard = enforce && d.onHand - d.reserved < 0;
    const row = await changeLocationStock(trx, d.location_id, d.sku, d.onHand, d.reserved, guard, now);
    if (row) located.push(row);
    else {
      const current = await locationStockRow(trx, d.location_id, d.sku.sku_key);
      short.push({ d, available: current ? current.on_hand - current.reserved : 0 });
    }
  }
  if (short.length) {
    const names = new Map(
      (
        await locationsWithIds(
          trx,
          short.map((s) => s.d.location_id),
        )
      ).map((l) => [l.id, l.name]),
    );
    const list = short.map(
      ({ d, available }) =>
        `${skuLabel(d.sku)} at ${names.get(d.location_id) ?? `location ${d.location_id}`} (needs ${d.reserved - d.onHand}, ${available} available)`,
    );
    throw conflict(`Not enough stock to ${purpose}: ${list.join('; ')}.`);
  }
  const totals = new Map<string, { sku: Sku; onHand: number; reserved: number }>();
  for (const d of byPair.values()) {
    const seen = totals.get(d.sku.sku_key);
    if (seen) {
      seen.onHand += d.onHand;
      seen.reserved += d.reserved;
    } else totals.set(d.sku.sku_key, { sku: d.sku, onHand: d.onHand, reserved: d.reserved });
  }
  const changes: StockChange[] = [];
  for (const key of [...totals.keys()].sort()) {
    const t = totals.get(key) as { sku: Sku; onHand: number; reserved: number };
    if (t.onHand === 0 && t.reserved === 0) continue;
    const stock = await addToStock(trx, t.sku, t.onHand, now, t.reserved);
    if (t.onHand !== 0) changes.push({ stock, delta: t.onHand });
  }
  return { changes, located };
}

/**
 * Writes ledger rows and moves stock by the same amounts (plus `reserved` changes that go with them,
 * as a fulfilment releasing what it takes). A source line that already moved stock (the unique key on
 * source_type, source_id, source_line) is a 409 and the whole transaction rolls back.
 */
export async function applyMovements(
  trx: Trx,
  source: MoveSource,
  lines: MoveLine[],
  opts: { enforce: boolean; purpose: string; reservedChanges?: StockDelta[] },
): Promise<StockOutcome & { movementIds: number[] }> {
  const now = nowIso();
  const rows: NewMovement[] = lines.map((line) => ({
    ...source,
    movement_type: line.movement_type ?? source.movement_type,
    source_line: line.source_line,
    location_id: line.location_id,
    sku_key: skuKey(line.cable_type, line.cable_length),
    cable_type: line.cable_type,
    cable_length: line.cable_length,
    quantity_delta: line.quantity_delta,
    reel_id: line.reel_id ?? null,
    created_at: now,
  }));
  let movementIds: number[];
  try {
    movementIds = await insertMovements(trx, rows);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('This stock movement was already recorded; nothing was changed.');
    throw err;
  }
  const deltas: StockDelta[] = rows.map((r) => ({
    location_id: r.location_id,
    sku: { sku_key: r.sku_key, cable_type: r.cable_type, cable_length: r.cable_length },
    onHand: r.quantity_delta,
    reserved: 0,
  }));
  const outcome = await changeStock(trx, [...deltas, ...(opts.reservedChanges ?? [])], opts.enforce, opts.purpose);
  await changeReels(trx, lines, now);
  return { ...outcome, movementIds };
}

/**
 * Moves each reel named by the lines by the sum of its lines, in reel id order (after location_stock,
 * so every transaction takes its locks in the same order). A reel that would go below zero, or lose
 * length while scrapped, is a 409 naming it ("Reel R-000123 has 40 ft left; this needs 100 ft.") and
 * the caller's transaction rolls back.
 */
async function changeReels(trx: Trx, lines: MoveLine[], now: string): Promise<void> {
  const byReel = new Map<number, { delta: number; locationId?: number }>();
  for (const line of lines) {
    if (line.reel_id === undefined) continue;
    const seen = byReel.get(line.reel_id) ?? { delta: 0 };
    seen.delta += line.quantity_delta;
    if (line.movement_type === 'transfer_in') seen.locationId = line.location_id;
    byReel.set(line.reel_id, seen);
  }
  for (const id of [...byReel.keys()].sort((a, b) => a - b)) {
    const { delta, locationId } = byReel.get(id) as { delta: number; locationId?: number };
    if (await changeReel(trx, id, delta, locationId, now)) continue;
    const [reel] = await reelsWithIds(trx, [id]);
    if (!reel) throw conflict(`No reel with id ${id}; nothing was changed.`);
    if (reel.status === 'scrapped') throw conflict(`Reel ${reel.code} is scrapped; nothing was changed.`);
    throw conflict(
      `Reel ${reel.code} has ${formatLength(reel.remaining_mm, reel.unit)} left; this needs ${formatLength(-delta, reel.unit)}.`,
    );
  }
}
