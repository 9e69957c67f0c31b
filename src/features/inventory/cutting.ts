import { type Db, nowIso, type Trx } from '../../db/index.ts';
import type { Principal } from '../../http/context.ts';
import { badRequest, HttpError } from '../../http/errors.ts';
import { formatLength } from '../../lib/length.ts';
import { cutsOfItems, keepOffcut } from './cut-queries.ts';
import {
  type CutChoice,
  type CutLine,
  cutLinesOf,
  type LineCut,
  type LineToFill,
  planCutLines,
  reelChoices,
  reservationPlan,
} from './fulfilment.ts';
import { bulkSkusByKeys } from './reel-queries.ts';
import { locationStockByKeys, openReservationsOf } from './stock-queries.ts';

/**
 * Cutting from reels as the pages and the JSON show it (DESIGN.md §13): the fulfilment page's plan, what
 * each line of a request will cut (before approval, as an approval would reserve it), the cuts made and
 * the offcuts they left to keep or scrap. Reached through service.ts, which re-exports it.
 */

/** Whether a request's open reservations cut anything from reels (its fulfilment goes through the plan). */
export async function cutsPending(db: Db | Trx, ticketId: number): Promise<boolean> {
  return (await openReservationsOf(db, ticketId)).some((r) => r.kind === 'length');
}

export interface CutProposal {
  item_id: number;
  piece: number;
  label: string;
  length: string;
  reel_code: string;
  before: string;
  after: string;
  /** Reels that hold this piece, best fit first (the proposed one among them). */
  options: { code: string; remaining: string }[];
}

/**
 * The fulfilment page's plan for a request: each piece to cut with its proposed reel (the person's
 * `choices`, best fit for the rest) and the reels that could take it; or the sentence saying why no
 * plan holds now. Read without locks: fulfilling plans again, locked, in its own transaction.
 */
export async function fulfilmentPlan(
  db: Db,
  ticket: { id: number; location: { id: number; name: string } },
  items: LineToFill[],
  choices: CutChoice[] = [],
): Promise<{ cuts: CutProposal[]; problem?: string }> {
  const lines = await cutLinesOf(db, await openReservationsOf(db, ticket.id), items);
  if (lines.length === 0) return { cuts: [] };
  const options = async (line: CutLine) =>
    (await reelChoices(db, line.sku.sku_key, ticket.location.id, line.piece_mm)).map((r) => ({
      code: r.code,
      remaining: formatLength(r.remaining_mm, line.unit),
    }));
  let planned: LineCut[];
  try {
    planned = await planCutLines(db, ticket.location, lines, choices);
  } catch (err) {
    if (!(err instanceof HttpError) || err.status >= 500) throw err;
    if (choices.length === 0) return { cuts: [], problem: err.message };
    // Show the best-fit plan again, with why the choice was refused.
    return { ...(await fulfilmentPlan(db, ticket, items)), problem: err.fields ? Object.values(err.fields)[0] : err.message };
  }
  const byLine = new Map<number, { code: string; remaining: string }[]>();
  for (const line of lines) byLine.set(line.item_id, await options(line));
  return {
    cuts: planned.map((c) => {
      const own = byLine.get(c.item_id) ?? [];
      const f = (mm: number) => formatLength(mm, c.line.unit);
      return {
        item_id: c.item_id,
        piece: c.piece,
        label: `${c.line.cable_type} ${c.line.cable_length}${c.line.pieces > 1 ? ` (piece ${c.piece} of ${c.line.pieces})` : ''}`,
        length: f(c.mm),
        reel_code: c.reel.code,
        before: f(c.before_mm),
        after: f(c.after_mm),
        options: own.some((o) => o.code === c.reel.code)
          ? own
          : [{ code: c.reel.code, remaining: f(c.reel.remaining_mm) }, ...own],
      };
    }),
  };
}

/** How much of a request line is (or, once approved, will be) cut from reels at its source. */
export interface LineCutFromReels {
  pieces: number;
  /** One piece, in the bulk SKU's unit ("100 ft"). */
  piece: string;
  /** What the reels there have available (on hand less reserved), in that unit. */
  available: string;
  /** The reels there do not have the length this line needs (with what the request holds counted back). */
  short: boolean;
}

/**
 * Per item (same order), the part cut from reels at `locationId`: from the open reservations when the
 * request holds its cable, else as an approval would reserve it now (so the approver sees it first).
 */
export async function cutsForItems(
  db: Db,
  ticketId: number,
  locationId: number,
  items: LineToFill[],
  held: boolean,
): Promise<(LineCutFromReels | undefined)[]> {
  const lengths = held
    ? (await openReservationsOf(db, ticketId)).filter((r) => r.kind === 'length')
    : (
        await reservationPlan(
          db,
          locationId,
          items.filter((i) => i.quantity > 0),
        )
      )
        .filter((r) => r.kind === 'length')
        .map((r) => ({ ...r, sku_key: r.sku.sku_key }));
  if (lengths.length === 0) return items.map(() => undefined);
  // The plan brings each bulk SKU's unit and availability; for held reservations they are read here.
  const bulkOf = held
    ? await bulkStockAt(
        db,
        locationId,
        lengths.map((r) => r.sku_key),
      )
    : new Map(lengths.map((r) => [r.sku_key, 'bulk' in r ? r.bulk : undefined]));
  const out: (LineCutFromReels | undefined)[] = [];
  for (const item of items) {
    const r = lengths.find((l) => l.source_line === item.position);
    if (!r) {
      out.push(undefined);
      continue;
    }
    const unit = bulkOf.get(r.sku_key)?.unit ?? 'ft';
    const available = bulkOf.get(r.sku_key)?.available_mm ?? 0;
    out.push({
      pieces: r.pieces as number,
      piece: formatLength(r.piece_mm as number, unit),
      available: available > 0 ? formatLength(available, unit) : `0 ${unit}`,
      short: (held ? available + r.quantity : available) < r.quantity,
    });
  }
  return out;
}

/** Bulk SKUs' unit and their length available at a location (on hand less reserved), by key. */
async function bulkStockAt(db: Db, locationId: number, keys: string[]) {
  const stock = new Map((await locationStockByKeys(db, locationId, keys)).map((s) => [s.sku_key, s]));
  return new Map(
    (await bulkSkusByKeys(db, keys)).map((b) => {
      const s = stock.get(b.sku_key);
      return [b.sku_key, { unit: b.unit, available_mm: s ? s.on_hand - s.reserved : 0 }] as const;
    }),
  );
}

export interface MadeCut {
  item_id: number;
  piece: number;
  length: string;
  mm: number;
  reel_code: string;
  reel_remaining: string;
}

export interface Offcut {
  reel_code: string;
  remaining: string;
  remaining_mm: number;
  /** REEL_OFFCUT_MIN in the reel's unit. */
  limit: string;
}

/**
 * The cuts made for a request's items and the offcuts they left: reels still active whose remaining
 * is below `offcutMinMm`, that nobody kept for this request yet ("keep or scrap").
 */
export async function cutsAndOffcuts(
  db: Db,
  ticketId: number,
  itemIds: number[],
  offcutMinMm: number,
): Promise<{ cuts: MadeCut[]; offcuts: Offcut[] }> {
  // One statement for all the items, whether each reel was kept included.
  const rows = await cutsOfItems(db, itemIds, ticketId);
  const offcuts = new Map<number, Offcut>();
  for (const r of rows)
    if (r.reel_status === 'active' && r.remaining_mm < offcutMinMm && !r.kept)
      offcuts.set(r.reel_id, {
        reel_code: r.reel_code,
        remaining: formatLength(r.remaining_mm, r.unit),
        remaining_mm: r.remaining_mm,
        limit: formatLength(offcutMinMm, r.unit),
      });
  return {
    cuts: rows.map((r) => ({
      item_id: r.item_id,
      piece: r.piece,
      length: formatLength(r.mm, r.unit),
      mm: r.mm,
      reel_code: r.reel_code,
      reel_remaining: formatLength(r.remaining_mm, r.unit),
    })),
    offcuts: [...offcuts.values()],
  };
}

/** "Keep": the offcut stays in stock and this request's page stops asking (409 when it cut no such reel). */
export async function keepOffcutOf(db: Db, actor: Principal, ticketId: number, itemIds: number[], code: string) {
  const rows = (await cutsOfItems(db, itemIds)).filter((r) => r.reel_code === code.trim().toUpperCase());
  const reel = rows[0];
  if (!reel) throw badRequest('reel_code: this request cut no such reel.', { reel_code: 'this request cut no such reel' });
  await keepOffcut(db, { ticket_id: ticketId, reel_id: reel.reel_id, kept_by_id: actor.id, created_at: nowIso() });
  return reel.reel_code;
}
