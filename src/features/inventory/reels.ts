import { type Db, nowIso, type Trx } from '../../db/index.ts';
import type { Principal } from '../../http/context.ts';
import { badRequest, conflict, notFound } from '../../http/errors.ts';
import { keysetPage } from '../../lib/keyset.ts';
import { formatLength, type LengthUnit, parseLength } from '../../lib/length.ts';
import { type LocationRow, usableLocation } from '../locations/service.ts';
import { applyMovements, type StockOutcome, skuOf } from './engine.ts';
import { insertReceipt } from './queries.ts';
import {
  ensureBulkSku,
  findReelByCode,
  holdReel,
  insertReel,
  listReels,
  markReelScrapped,
  type ReelFilter,
  type ReelRow,
  reelMovements,
} from './reel-queries.ts';
import type { BulkReceiptInput, ReelCountInput, ReelMoveInput, ReelScrapInput } from './reel-schema.ts';
import { reviewReorder } from './reorder.ts';
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

// ---- receiving --------------------------------------------------------------------------------

/**
 * A delivery of bulk cable: the receipt (vendor, PO), then per line its reels, each with its own
 * 'receipt' movement, in one transaction. Returns the receipt id and the reels' codes in order.
 */
export async function receiveBulk(
  db: Db,
  actor: Principal,
  input: BulkReceiptInput,
  settings?: { appUrl: string },
): Promise<{ receiptId: number; codes: string[] }> {
  return db.transaction(async (trx) => {
    const at = await usableLocation(trx, input.location_id, 'location_id');
    const places = new Map<number, LocationRow>([[at.id, at]]);
    for (const [n, line] of input.lines.entries()) {
      if (line.location_id !== undefined && !places.has(line.location_id))
        places.set(line.location_id, await usableLocation(trx, line.location_id, `lines.${n}.location_id`));
    }
    const receiptId = await insertReceipt(
      trx,
      {
        vendor: input.vendor,
        po_number: input.po_number ?? null,
        notes: input.notes ?? null,
        received_by_id: actor.id,
        now: nowIso(),
      },
      [],
    );
    const notes = input.po_number ? `${input.vendor}, PO ${input.po_number}` : input.vendor;
    const codes: string[] = [];
    for (const line of input.lines) {
      for (const reel of line.reels) {
        const made = await addReel(
          trx,
          actor.id,
          {
            cable_type: line.cable_type,
            unit: line.unit,
            location_id: line.location_id ?? at.id,
            starting_mm: reel.mm,
            lot: reel.lot,
            receipt_id: receiptId,
          },
          notes,
        );
        codes.push(made.code);
        await reviewReorder(trx, made.outcome.located, settings?.appUrl ?? '');
      }
    }
    return { receiptId, codes };
  });
}

// ---- reading ----------------------------------------------------------------------------------

export async function getReel(db: Db | Trx, code: string): Promise<ReelRow> {
  const reel = await findReelByCode(db, code);
  if (!reel) throw notFound(`No reel ${code}.`);
  return reel;
}

export const reelHistory = (db: Db, reel: ReelRow) => reelMovements(db, reel.id);

export async function reelPage(db: Db, f: Omit<ReelFilter, 'sku_key'> & { sku?: string }) {
  const { sku, ...rest } = f;
  return keysetPage(
    await listReels(db, { ...rest, sku_key: sku ? bulkSku(sku).sku_key : undefined, limit: f.limit + 1 }),
    f.limit,
    (r) => r.id,
  );
}

export const isPickable = (reel: Pick<ReelRow, 'status' | 'remaining_mm'>) => reel.status === 'active' && reel.remaining_mm > 0;

// ---- move, count, scrap -------------------------------------------------------------------------

/** Reads the reel in the transaction and holds it as read (see holdReel), or 404/409. */
async function heldReel(trx: Trx, code: string): Promise<ReelRow> {
  const reel = await getReel(trx, code);
  if (reel.status === 'scrapped') throw conflict(`Reel ${reel.code} is scrapped; nothing was changed.`);
  if (!(await holdReel(trx, reel, nowIso()))) throw conflict(`Reel ${reel.code} changed meanwhile; look at it again.`);
  return reel;
}

const bulkLine = (reel: ReelRow) => ({ cable_type: reel.cable_type, cable_length: '', reel_id: reel.id });

/**
 * A reel to another location: a transfer_out of its remaining length where it is and a transfer_in
 * where it goes, and the reel's location with them. An empty reel has nothing to move (409).
 */
export async function moveReel(
  db: Db,
  actor: Principal,
  code: string,
  input: ReelMoveInput,
  settings?: { appUrl: string },
): Promise<ReelRow> {
  await db.transaction(async (trx) => {
    const reel = await heldReel(trx, code);
    const to = await usableLocation(trx, input.to_location_id, 'to_location_id');
    if (to.id === reel.location_id)
      throw badRequest(`to_location_id: ${reel.code} is already at ${to.name}`, {
        to_location_id: `${reel.code} is already at ${to.name}`,
      });
    if (reel.remaining_mm === 0) throw conflict(`Reel ${reel.code} is empty; there is nothing to move.`);
    const route = `${reel.location_name} → ${to.name}`;
    const outcome = await applyMovements(
      trx,
      {
        movement_type: 'transfer_out',
        source_type: 'reel_move',
        source_id: null,
        actor_user_id: actor.id,
        notes: input.notes ? `${route}: ${input.notes}` : route,
      },
      [
        {
          ...bulkLine(reel),
          source_line: 0,
          location_id: reel.location_id,
          quantity_delta: -reel.remaining_mm,
          movement_type: 'transfer_out',
        },
        {
          ...bulkLine(reel),
          source_line: 1,
          location_id: to.id,
          quantity_delta: reel.remaining_mm,
          movement_type: 'transfer_in',
        },
      ],
      { enforce: false, purpose: 'move this reel' },
    );
    await reviewReorder(trx, outcome.located, settings?.appUrl ?? '');
  });
  return getReel(db, code);
}

/** "0", "0 ft", "0 m": a count may find a reel empty, which parseLength (lengths > 0) refuses. */
const ZERO = /^\s*0+(\.0+)?\s*(ft|feet|m|')?\s*$/i;

/** The measured remaining length in mm, a bare number in the reel's unit; a 400 on the field otherwise. */
export function measuredMm(remaining: string, unit: LengthUnit): number {
  if (ZERO.test(remaining)) return 0;
  const parsed = parseLength(/^\s*[\d,]+(\.\d+)?\s*$/.test(remaining) ? `${remaining} ${unit}` : remaining);
  if (!parsed.ok) throw badRequest(`remaining: ${parsed.error}`, { remaining: parsed.error });
  return parsed.mm;
}

/**
 * A count: the measured remaining length becomes the reel's remaining through one 'adjustment'
 * movement of the difference (zero when it matched: the count and its reason are still recorded).
 */
export async function countReel(
  db: Db,
  actor: Principal,
  code: string,
  input: ReelCountInput,
  settings?: { appUrl: string },
): Promise<ReelRow> {
  await db.transaction(async (trx) => {
    const reel = await heldReel(trx, code);
    const measured = measuredMm(input.remaining, reel.unit);
    if (measured > reel.starting_mm * 2)
      throw badRequest(`remaining: more than twice the reel's starting length (${formatLength(reel.starting_mm, reel.unit)})`, {
        remaining: `more than twice the reel's starting length (${formatLength(reel.starting_mm, reel.unit)})`,
      });
    const delta = measured - reel.remaining_mm;
    const outcome = await applyMovements(
      trx,
      { movement_type: 'adjustment', source_type: 'reel_count', source_id: null, actor_user_id: actor.id, notes: input.reason },
      [{ ...bulkLine(reel), source_line: 0, location_id: reel.location_id, quantity_delta: delta }],
      { enforce: false, purpose: 'count this reel' },
    );
    await reviewReorder(trx, outcome.located, settings?.appUrl ?? '');
  });
  return getReel(db, code);
}

/**
 * Scrap: the remaining length leaves stock through one 'scrap' movement carrying the reason, and the
 * reel is marked scrapped (it leaves the pickable list). Once per reel (the ledger's unique key).
 */
export async function scrapReel(
  db: Db,
  actor: Principal,
  code: string,
  input: ReelScrapInput,
  settings?: { appUrl: string },
): Promise<ReelRow> {
  await db.transaction(async (trx) => {
    const reel = await heldReel(trx, code);
    const outcome = await applyMovements(
      trx,
      { movement_type: 'scrap', source_type: 'reel_scrap', source_id: reel.id, actor_user_id: actor.id, notes: input.reason },
      [{ ...bulkLine(reel), source_line: 0, location_id: reel.location_id, quantity_delta: -reel.remaining_mm }],
      { enforce: false, purpose: 'scrap this reel' },
    );
    if (!(await markReelScrapped(trx, reel.id, nowIso()))) throw conflict(`Reel ${reel.code} is scrapped; nothing was changed.`);
    await reviewReorder(trx, outcome.located, settings?.appUrl ?? '');
  });
  return getReel(db, code);
}
