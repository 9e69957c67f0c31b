import test from 'ava';
import fc from 'fast-check';
import { candidateReads, type Piece, type PoolReel, piecesOf, planCuts } from '../src/features/inventory/cuts.ts';
import { feetMm as ft } from './support/lengths.ts';

/**
 * Cut planning on its own (the database-backed fulfilment is in reels-cuts.test.ts): best fit, largest
 * pieces first, the person's choices, refusals, and that reading only the candidates the database is
 * asked for gives the same plan as looking at every reel.
 */

const reel = (id: number, feet: number): PoolReel => ({ id, code: `R-${String(id).padStart(6, '0')}`, remaining_mm: ft(feet) });

test('each piece goes on the reel with the least remaining that still holds it', (t) => {
  const plan = planCuts(piecesOf(7, 1, ft(100)), [reel(1, 1000), reel(2, 120), reel(3, 90)]);
  t.true(plan.ok);
  if (!plan.ok) return;
  t.is(plan.cuts.length, 1);
  t.is(plan.cuts[0]?.reel.code, 'R-000002');
  t.is(plan.cuts[0]?.before_mm, ft(120));
  t.is(plan.cuts[0]?.after_mm, ft(120) - ft(100));
});

test('pieces are placed largest first; several may come from one reel while it holds them', (t) => {
  // The journey's request: 350 ft unbroken and 2 x 100 ft, on a 1000 ft and a 500 ft reel.
  const pieces = [...piecesOf(1, 2, ft(100)), ...piecesOf(2, 1, ft(350))];
  const plan = planCuts(pieces, [reel(1, 1000), reel(2, 500)]);
  t.true(plan.ok);
  if (!plan.ok) return;
  t.deepEqual(
    plan.cuts.map((c) => [c.item_id, c.piece, c.reel.code, c.before_mm, c.after_mm]),
    [
      [1, 1, 'R-000002', ft(500) - ft(350), ft(500) - ft(350) - ft(100)],
      [1, 2, 'R-000001', ft(1000), ft(1000) - ft(100)],
      [2, 1, 'R-000002', ft(500), ft(500) - ft(350)],
    ],
  );
});

test('a chosen reel is used when it holds the piece; too short or unknown is a problem naming it', (t) => {
  const pool = [reel(1, 1000), reel(2, 120), reel(3, 90)];
  const chosen = planCuts(piecesOf(7, 1, ft(100)), pool, new Map([['7:1', 'r-000001']]));
  t.true(chosen.ok);
  if (chosen.ok) {
    t.is(chosen.cuts[0]?.reel.code, 'R-000001');
    t.true(chosen.cuts[0]?.chosen);
  }
  const short = planCuts(piecesOf(7, 1, ft(100)), pool, new Map([['7:1', 'R-000003']]));
  t.false(short.ok);
  if (!short.ok) t.like(short.problems[0], { kind: 'too_short', left_mm: ft(90), reel: { code: 'R-000003' } });
  const unknown = planCuts(piecesOf(7, 1, ft(100)), pool, new Map([['7:1', 'R-999999']]));
  if (!unknown.ok) t.like(unknown.problems[0], { kind: 'unknown_reel', code: 'R-999999' });
  else t.fail('an unknown reel was accepted');
});

test('two choices of one reel count each other: the second that no longer fits is refused', (t) => {
  const choices = new Map([
    ['7:1', 'R-000002'],
    ['7:2', 'R-000002'],
  ]);
  const plan = planCuts(piecesOf(7, 2, ft(100)), [reel(1, 1000), reel(2, 150)], choices);
  t.false(plan.ok);
  if (!plan.ok) t.like(plan.problems, [{ kind: 'too_short', piece: { piece: 2 }, left_mm: ft(50) }]);
});

test('a piece no reel holds is a problem with the longest length left', (t) => {
  const plan = planCuts([...piecesOf(1, 1, ft(300)), ...piecesOf(2, 1, ft(250))], [reel(1, 280), reel(2, 100)]);
  t.false(plan.ok);
  if (!plan.ok) {
    t.is(plan.problems.length, 1);
    t.like(plan.problems[0], { kind: 'no_reel', piece: { item_id: 1 }, longest_mm: ft(280) });
  }
  const none = planCuts(piecesOf(1, 1, ft(1)), []);
  if (!none.ok) t.like(none.problems[0], { kind: 'no_reel', longest_mm: 0 });
  else t.fail('a plan with no reels succeeded');
});

const pieceSets = fc
  .array(fc.record({ count: fc.integer({ min: 1, max: 4 }), mm: fc.integer({ min: 1, max: 400 }) }), {
    minLength: 1,
    maxLength: 4,
  })
  .map((lines) => lines.flatMap((l, n) => piecesOf(n + 1, l.count, l.mm)));
const pools = fc
  .array(fc.integer({ min: 1, max: 1200 }), { minLength: 0, maxLength: 30 })
  .map((lengths) => lengths.map((mm, n) => ({ id: n + 1, code: `R-${String(n + 1).padStart(6, '0')}`, remaining_mm: mm })));

/** What the database returns for one candidate read: pickable reels holding minMm, least remaining first. */
const read = (pool: PoolReel[], minMm: number, limit: number) =>
  pool
    .filter((r) => r.remaining_mm >= minMm)
    .sort((a, b) => a.remaining_mm - b.remaining_mm || a.id - b.id)
    .slice(0, limit);

test('property: a plan never takes a reel below zero, and every cut is best fit at its turn', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(pieceSets, pools, (pieces: Piece[], pool: PoolReel[]) => {
        const plan = planCuts(pieces, pool);
        if (!plan.ok) {
          // Refused only when some piece truly found no reel at its turn.
          return plan.problems.every((p) => p.kind === 'no_reel' && p.longest_mm < p.piece.mm);
        }
        const left = new Map(pool.map((r) => [r.id, r.remaining_mm]));
        // Replay in the planner's order (largest first): each cut had the least remaining that held it.
        const order = [...plan.cuts].sort((a, b) => b.mm - a.mm || a.item_id - b.item_id || a.piece - b.piece);
        for (const cut of order) {
          const has = left.get(cut.reel.id) as number;
          if (has !== cut.before_mm || has < cut.mm) return false;
          const better = pool.some((r) => {
            const h = left.get(r.id) as number;
            return h >= cut.mm && (h < has || (h === has && r.id < cut.reel.id));
          });
          if (better) return false;
          left.set(cut.reel.id, has - cut.mm);
        }
        return [...left.values()].every((v) => v >= 0) && plan.cuts.length === pieces.length;
      }),
    ),
  );
});

test('property: planning on the candidate reads alone gives the plan that every reel gives', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(pieceSets, pools, (pieces: Piece[], pool: PoolReel[]) => {
        const byId = new Map<number, PoolReel>();
        for (const { minMm, limit } of candidateReads(pieces)) for (const r of read(pool, minMm, limit)) byId.set(r.id, r);
        const small = planCuts(pieces, [...byId.values()]);
        const full = planCuts(pieces, pool);
        if (small.ok !== full.ok) return false;
        if (!small.ok || !full.ok) return true;
        return JSON.stringify(small.cuts.map((c) => c.reel.id)) === JSON.stringify(full.cuts.map((c) => c.reel.id));
      }),
    ),
  );
});
