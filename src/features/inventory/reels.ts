import { nowIso, type Trx } from '../../db/index.ts';
import type { LengthUnit } from '../../lib/length.ts';
import { applyMovements, type StockOutcome, skuOf } from './engine.ts';
import { ensureBulkSku, insertReel } from './reel-queries.ts';
import type { Sku } from './stock-queries.ts';

/**
 * Reels of bulk cable (DESIGN.md §13): one row per physical reel, its remaining length kept by the
 * engine with every movement on it. The source conventions of the ledger for reels are:
 * receipt ('reel_receipt', reel id, 0), scrap ('reel_scrap', reel id, 0), count ('reel_count', null),
 * move ('reel_move', null), cut ('ticket_cut', ticket item id, piece number).
 */

/** The bulk SKU of a cable type: the SKU whose length is the empty string. */
export const bulkSku = (cableType: string): Sku => skuOf(cableType, '');

export interface NewReel {
  cable_type: string;
  /** Used when this is the first reel of the type; later reels keep the SKU's unit. */
  unit: LengthUnit;
  location_id: number;
  starting_mm: number;
  lot: string | null;
  receipt_id: number | null;
}

/**
 * One reel into stock: the bulk SKU (created with `unit` when new), the reel, and its 'receipt'
 * movement of starting_mm at its location, in the caller's transaction.
 */
export async function addReel(
  trx: Trx,
  actorId: number | null,
  reel: NewReel,
  notes: string | null,
): Promise<{ id: number; code: string; unit: LengthUnit; outcome: StockOutcome }> {
  const now = nowIso();
  const sku = bulkSku(reel.cable_type);
  const bulk = await ensureBulkSku(trx, { sku_key: sku.sku_key, cable_type: reel.cable_type }, reel.unit, now);
  const { id, code } = await insertReel(
    trx,
    {
      sku_key: sku.sku_key,
      location_id: reel.location_id,
      starting_mm: reel.starting_mm,
      lot: reel.lot,
      receipt_id: reel.receipt_id,
    },
    now,
  );
  const outcome = await applyMovements(
    trx,
    { movement_type: 'receipt', source_type: 'reel_receipt', source_id: id, actor_user_id: actorId, notes },
    [
      {
        source_line: 0,
        location_id: reel.location_id,
        cable_type: bulk.cable_type,
        cable_length: '',
        quantity_delta: reel.starting_mm,
        reel_id: id,
      },
    ],
    { enforce: false, purpose: 'receive' },
  );
  return { id, code, unit: bulk.unit, outcome };
}
