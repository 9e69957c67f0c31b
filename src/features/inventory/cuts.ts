/**
 * Cut planning (DESIGN.md §13), pure: which reel each piece of a request is cut from. Each piece comes
 * from one reel (never spliced). A piece the person fulfilling chose a reel for goes on that reel
 * when it still holds it; every other piece, largest first, goes on the reel with the least remaining
 * that still holds it (best fit, which keeps long lengths for long runs). Several pieces may come from
 * one reel while it holds them; the plan counts what earlier pieces took.
 */

/** One piece to cut: the ticket item it belongs to, its number within the item (1..n) and its length. */
export interface Piece {
  item_id: number;
  piece: number;
  mm: number;
}

/** A reel the plan may cut from, as read (remaining before this plan). */
export interface PoolReel {
  id: number;
  code: string;
  remaining_mm: number;
}

export interface PlannedCut extends Piece {
  reel: PoolReel;
  /** The reel's remaining before and after this cut, counting the plan's earlier cuts on it. */
  before_mm: number;
  after_mm: number;
  /** The person fulfilling chose this reel (rather than best fit). */
  chosen: boolean;
}

export type CutProblem =
  /** The chosen reel is not a pickable reel of this SKU at the source. */
  | { kind: 'unknown_reel'; piece: Piece; code: string }
  /** The chosen reel has less left (after the plan's other cuts on it) than the piece. */
  | { kind: 'too_short'; piece: Piece; reel: PoolReel; left_mm: number }
  /** No reel holds the piece; the longest has this much left after the plan's other cuts (0: none). */
  | { kind: 'no_reel'; piece: Piece; longest_mm: number };

export type CutPlan = { ok: true; cuts: PlannedCut[] } | { ok: false; problems: CutProblem[] };

const pieceKey = (p: Pick<Piece, 'item_id' | 'piece'>) => `${p.item_id}:${p.piece}`;

/**
 * Plans `pieces` on `pool` with the person's choices (`chosen`, by item and piece: a reel code). The
 * cuts come back in (item, piece) order; every problem is reported, not only the first.
 */
export function planCuts(pieces: Piece[], pool: PoolReel[], chosen: ReadonlyMap<string, string> = new Map()): CutPlan {
  const left = new Map(pool.map((r) => [r.id, r.remaining_mm]));
  const byCode = new Map(pool.map((r) => [r.code.toUpperCase(), r]));
  const cuts: PlannedCut[] = [];
  const problems: CutProblem[] = [];
  const take = (piece: Piece, reel: PoolReel, isChosen: boolean) => {
    const before = left.get(reel.id) as number;
    left.set(reel.id, before - piece.mm);
    cuts.push({ ...piece, reel, before_mm: before, after_mm: before - piece.mm, chosen: isChosen });
  };
  const ordered = [...pieces].sort((a, b) => a.item_id - b.item_id || a.piece - b.piece);
  const open: Piece[] = [];
  for (const piece of ordered) {
    const code = chosen.get(pieceKey(piece));
    if (code === undefined) {
      open.push(piece);
      continue;
    }
    const reel = byCode.get(code.trim().toUpperCase());
    if (!reel) problems.push({ kind: 'unknown_reel', piece, code });
    else if ((left.get(reel.id) as number) < piece.mm)
      problems.push({ kind: 'too_short', piece, reel, left_mm: left.get(reel.id) as number });
    else take(piece, reel, true);
  }
  // Largest first: a long piece placed after short ones may find every long reel already nicked.
  open.sort((a, b) => b.mm - a.mm || a.item_id - b.item_id || a.piece - b.piece);
  for (const piece of open) {
    let best: PoolReel | undefined;
    for (const reel of pool) {
      const has = left.get(reel.id) as number;
      if (has < piece.mm) continue;
      const bestHas = best ? (left.get(best.id) as number) : Number.POSITIVE_INFINITY;
      if (has < bestHas || (has === bestHas && best && reel.id < best.id)) best = reel;
    }
    if (best) take(piece, best, false);
    else problems.push({ kind: 'no_reel', piece, longest_mm: Math.max(0, ...left.values()) });
  }
  if (problems.length) return { ok: false, problems };
  cuts.sort((a, b) => a.item_id - b.item_id || a.piece - b.piece);
  return { ok: true, cuts };
}

/** The pieces of a line cut from bulk: `count` pieces of `mm`, numbered from `first`. */
export const piecesOf = (item_id: number, count: number, mm: number, first = 1): Piece[] =>
  Array.from({ length: count }, (_, n) => ({ item_id, piece: first + n, mm }));

export const choiceKey = pieceKey;

/**
 * The distinct piece lengths of a plan, largest first, and how many candidates to read for each:
 * best fit of every piece is among the `pieces.length` reels with the least remaining that hold that
 * length (each earlier piece can use up at most one of them), so the database reads only those rows.
 */
export function candidateReads(pieces: Piece[]): { minMm: number; limit: number }[] {
  const sizes = [...new Set(pieces.map((p) => p.mm))].sort((a, b) => b - a);
  return sizes.map((minMm) => ({ minMm, limit: pieces.length }));
}
