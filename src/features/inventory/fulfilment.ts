import type { Db, Trx } from '../../db/index.ts';
import { badRequest, conflict } from '../../http/errors.ts';
import { formatLength, type LengthUnit, parseLength } from '../../lib/length.ts';
import { MAX_ID } from '../../lib/schema.ts';
import { bestFitReels, bulkSkusWithReelsAt, type CutReel, longestPickable, reelsByCodes, stockOfTypes } from './cut-queries.ts';
import { type CutProblem, candidateReads, choiceKey, type PlannedCut, type PoolReel, piecesOf, planCuts } from './cuts.ts';
import { skuOf } from './engine.ts';
import { bulkSkusByKeys } from './reel-queries.ts';
import { skuKey } from './sku.ts';
import type { ReservationRow, Sku } from './stock-queries.ts';

/**
 * Bulk cable in requests (DESIGN.md §13): how an approval splits a line into counted pieces and length
 * cut from reels, and which reel each piece is cut from at fulfilment.
 */

/** A request line as approval and fulfilment see it (quantity: what was granted). */
export interface LineToFill {
  /** The ticket item's id (cuts are linked to it). */
  id?: number;
  position: number;
  cable_type: string;
  cable_length: string;
  quantity: number;
}

/** What an approval reserves for one line: counted pieces, or length of the bulk SKU. */
export interface PlannedReservation {
  source_line: number;
  sku: Sku;
  /** A count for pieces; millimetres for length. */
  quantity: number;
  kind: 'pieces' | 'length';
  pieces: number | null;
  piece_mm: number | null;
  /** Length only: the bulk SKU's unit, and its length available here as planned (on hand less reserved). */
  bulk?: { unit: LengthUnit; available_mm: number };
}

/**
 * Each line's reservations at `locationId`. A line whose length parses ("100ft", "30 m") and whose
 * cable type has pickable reels there takes counted pieces of that length first (the request's own
 * SKU, else another spelling of the same length, while available there, lines before it counted), and
 * the rest as length of the bulk SKU (pieces x piece length). Any other line (or one longer in all than
 * a stored amount can hold) is reserved as counted pieces, as it always was (possibly short).
 */
export async function reservationPlan(q: Db | Trx, locationId: number, lines: LineToFill[]): Promise<PlannedReservation[]> {
  // Two statements whatever the number of lines: the bulk SKUs of the lines' types that have pickable
  // reels here, and the stock of those types here (counted and bulk).
  const bulks = new Map(
    (
      await bulkSkusWithReelsAt(
        q,
        locationId,
        lines.map((l) => skuKey(l.cable_type, '')),
      )
    ).map((b) => [b.sku_key, b]),
  );
  const stock = await stockOfTypes(q, locationId, [...bulks.keys()]);
  const countedRows = stock.filter((r) => r.cable_length !== '');
  const bulkStock = new Map(stock.filter((r) => r.cable_length === '').map((r) => [r.sku_key, r]));
  const out: PlannedReservation[] = [];
  const taken = new Map<string, number>();
  for (const line of lines) {
    const counted: PlannedReservation = {
      source_line: line.position,
      sku: skuOf(line.cable_type, line.cable_length),
      quantity: line.quantity,
      kind: 'pieces',
      pieces: null,
      piece_mm: null,
    };
    const length = parseLength(line.cable_length);
    const bulkKey = skuKey(line.cable_type, '');
    const bulk = bulks.get(bulkKey);
    // More length than one stored amount holds (2,147 km) is not cut from reels: counted, it is short.
    if (!length.ok || !bulk || line.quantity * length.mm > MAX_ID) {
      out.push(counted);
      continue;
    }
    const same = countedRows
      .filter((r) => r.sku_key.startsWith(bulkKey))
      .filter((r) => {
        const p = parseLength(r.cable_length);
        return p.ok && p.mm === length.mm;
      })
      .sort((a, b) => Number(b.sku_key === counted.sku.sku_key) - Number(a.sku_key === counted.sku.sku_key));
    let pieces = 0;
    for (const row of same) {
      const available = row.on_hand - row.reserved - (taken.get(row.sku_key) ?? 0);
      if (available <= 0) continue;
      pieces = Math.min(available, line.quantity);
      taken.set(row.sku_key, (taken.get(row.sku_key) ?? 0) + pieces);
      out.push({
        ...counted,
        sku: { sku_key: row.sku_key, cable_type: row.cable_type, cable_length: row.cable_length },
        quantity: pieces,
      });
      break;
    }
    const rest = line.quantity - pieces;
    if (rest > 0)
      out.push({
        source_line: line.position,
        sku: { sku_key: bulk.sku_key, cable_type: bulk.cable_type, cable_length: '' },
        quantity: rest * length.mm,
        kind: 'length',
        pieces: rest,
        piece_mm: length.mm,
        bulk: {
          unit: bulk.unit,
          available_mm: (bulkStock.get(bulkKey)?.on_hand ?? 0) - (bulkStock.get(bulkKey)?.reserved ?? 0),
        },
      });
  }
  return out;
}

/** A line reserved as length: its item, bulk SKU, and pieces to cut. */
export interface CutLine {
  item_id: number;
  position: number;
  /** The request's spelling ("Cat6", "100ft"), for sentences. */
  cable_type: string;
  cable_length: string;
  sku: Sku;
  unit: LengthUnit;
  pieces: number;
  piece_mm: number;
}

/** The person's choice of reel for one piece (API `cuts`, the fulfilment page's selects). */
export interface CutChoice {
  item_id: number;
  piece: number;
  reel_code: string;
}

export interface LineCut extends PlannedCut {
  line: CutLine;
}

/** "piece 2 of Cat6 100ft" */
const pieceName = (line: CutLine, piece: number) =>
  line.pieces > 1 ? `piece ${piece} of ${line.cable_type} ${line.cable_length}` : `${line.cable_type} ${line.cable_length}`;

/**
 * Checks the person's choices against the lines: each names a cut line of this request, a piece it
 * has, once. 400 naming the field (`cuts.N.item_id`, `cuts.N.piece`) otherwise.
 */
function checkChoices(lines: CutLine[], choices: CutChoice[]): void {
  const byItem = new Map(lines.map((l) => [l.item_id, l]));
  const seen = new Set<string>();
  choices.forEach((c, n) => {
    const line = byItem.get(c.item_id);
    const field = `cuts.${n}`;
    if (!line) {
      const sentence = `item ${c.item_id} is not cut from reels on this request`;
      throw badRequest(`${field}.item_id: ${sentence}`, { [`${field}.item_id`]: sentence });
    }
    if (c.piece < 1 || c.piece > line.pieces) {
      const sentence = line.pieces === 1 ? 'must be 1 (this line is one piece)' : `must be between 1 and ${line.pieces}`;
      throw badRequest(`${field}.piece: ${sentence}`, { [`${field}.piece`]: sentence });
    }
    if (seen.has(choiceKey(c))) {
      const sentence = `piece ${c.piece} of item ${c.item_id} is named twice`;
      throw badRequest(`${field}.piece: ${sentence}`, { [`${field}.piece`]: sentence });
    }
    seen.add(choiceKey(c));
  });
}

/**
 * The sentence for a plan's first problem: 400 for a reel that is not one to choose, 409 for length.
 * `longest` is the longest pickable reel there as committed (a reel another fulfilment is cutting now
 * may still show its length before the cut).
 */
function refusal(problem: CutProblem, line: CutLine, locationName: string, choices: CutChoice[], longest: number) {
  const f = (mm: number) => formatLength(mm, line.unit);
  const n = choices.findIndex((c) => c.item_id === problem.piece.item_id && c.piece === problem.piece.piece);
  const field = `cuts.${n}.reel_code`;
  if (problem.kind === 'unknown_reel') {
    const sentence = `${problem.code.trim().toUpperCase()} is not a reel of ${line.sku.cable_type} at ${locationName} that can be cut`;
    return badRequest(`${field}: ${sentence}`, { [field]: sentence });
  }
  if (problem.kind === 'too_short') {
    const sentence = `Reel ${problem.reel.code} has ${f(problem.left_mm)} left; ${pieceName(line, problem.piece.piece)} needs ${f(problem.piece.mm)}. Choose another reel.`;
    return conflict(sentence, { [field]: sentence });
  }
  const why =
    longest >= problem.piece.mm
      ? 'the reels long enough are being cut for other requests right now; try again in a moment'
      : longest > 0
        ? `the longest has ${f(longest)} left`
        : 'there is none';
  return conflict(
    `No reel of ${line.sku.cable_type} at ${locationName} holds ${f(problem.piece.mm)} for ${pieceName(line, problem.piece.piece)} (${why}).`,
  );
}

/**
 * The reel of every piece of `lines` at `locationId`: the person's choices where given, best fit for
 * the rest (cuts.ts). With `lock` (fulfilling), the reels are locked for the caller's transaction first
 * (chosen ones waiting, candidates skipping those another fulfilment holds: cut-queries.ts), so the
 * plan holds until the cuts are written. Refusals: 400 for a choice that names no cut of this request
 * or no reel to cut here, 409 for a reel too short or a piece no reel holds (naming the SKU).
 */
export async function planCutLines(
  q: Db | Trx,
  location: { id: number; name: string },
  lines: CutLine[],
  choices: CutChoice[] = [],
  lock = false,
): Promise<LineCut[]> {
  checkChoices(lines, choices);
  const chosenReels = await reelsByCodes(
    q,
    choices.map((c) => c.reel_code),
    lock,
  );
  const out: LineCut[] = [];
  const skus = [...new Set(lines.map((l) => l.sku.sku_key))].sort();
  for (const skuKey of skus) {
    const skuLines = lines.filter((l) => l.sku.sku_key === skuKey);
    const lineOf = new Map(skuLines.map((l) => [l.item_id, l]));
    const pieces = skuLines.flatMap((l) => piecesOf(l.item_id, l.pieces, l.piece_mm));
    const mine = choices.filter((c) => lineOf.has(c.item_id));
    const pickable = (r: CutReel) =>
      r.sku_key === skuKey && r.location_id === location.id && r.status === 'active' && r.remaining_mm > 0;
    const pool = new Map<number, PoolReel>(chosenReels.filter(pickable).map((r) => [r.id, r]));
    for (const { minMm, limit } of candidateReads(pieces))
      for (const r of await bestFitReels(q, skuKey, location.id, minMm, limit, lock)) pool.set(r.id, r);
    const plan = planCuts(pieces, [...pool.values()], new Map(mine.map((c) => [choiceKey(c), c.reel_code])));
    if (!plan.ok) {
      const first = plan.problems[0] as CutProblem;
      const longest = first.kind === 'no_reel' ? await longestPickable(q, skuKey, location.id) : 0;
      throw refusal(first, lineOf.get(first.piece.item_id) as CutLine, location.name, choices, longest);
    }
    for (const cut of plan.cuts) out.push({ ...cut, line: lineOf.get(cut.item_id) as CutLine });
  }
  return out.sort((a, b) => a.line.position - b.line.position || a.piece - b.piece);
}

/** Reels to choose from for a piece on the fulfilment page: the best fits that hold it, shortest first. */
export const reelChoices = (db: Db, skuKey: string, locationId: number, minMm: number, limit = 25) =>
  bestFitReels(db, skuKey, locationId, minMm, limit);

/** The lines a request's open reservations will cut from reels (what the fulfilment page plans). */
export async function cutLinesOf(q: Db | Trx, held: ReservationRow[], items: LineToFill[]): Promise<CutLine[]> {
  const lengths = held.filter((h) => h.kind === 'length');
  // One read for every line's unit, however many lines are cut.
  const units = new Map(
    (
      await bulkSkusByKeys(
        q,
        lengths.map((r) => r.sku_key),
      )
    ).map((b) => [b.sku_key, b.unit]),
  );
  const out: CutLine[] = [];
  for (const r of lengths) {
    const item = items.find((i) => i.position === r.source_line);
    if (!item?.id) continue;
    out.push({
      item_id: item.id,
      position: item.position,
      cable_type: item.cable_type,
      cable_length: item.cable_length,
      sku: { sku_key: r.sku_key, cable_type: r.cable_type, cable_length: r.cable_length },
      unit: units.get(r.sku_key) ?? 'ft',
      pieces: r.pieces as number,
      piece_mm: r.piece_mm as number,
    });
  }
  return out;
}
