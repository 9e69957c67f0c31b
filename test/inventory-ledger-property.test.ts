import test from 'ava';
import fc from 'fast-check';
import { skuKey } from '../src/features/inventory/sku.ts';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import { inventoryCast } from './support/factories.ts';
import { createTicket, driveTo } from './support/tickets.ts';

/**
 * The stock table is a cache of the ledger: after any mix of receipts, adjustments and fulfilments
 * (spelled in any case and spacing, run one by one or all at once), every SKU's on_hand equals the
 * sum of its movements, and both equal a model kept here.
 */

let app: TestApp;
let stockUser: PublicUserRow;
let admin: Client;
let tech: Client;
let stock: Client;

test.before(async () => {
  app = await startApp();
  ({ stockkeeper: stockUser, bossApi: admin, techApi: tech, stockApi: stock } = await inventoryCast(app));
});
test.after.always(async () => {
  await app?.close();
});

const SKUS = [
  ['Cat6', '100ft'],
  ['Cat6', '50ft'],
  ['OM4 Fibre', '10 m'],
  ['Coax RG6', '1000ft'],
] as const;

/** The same SKU as a person might type it. */
const SPELLINGS: ((s: string) => string)[] = [
  (s) => s,
  (s) => s.toLowerCase(),
  (s) => s.toUpperCase(),
  (s) => `  ${s} `,
  (s) => s.replace(/ /g, '   '),
];

const line = fc.record({
  sku: fc.integer({ min: 0, max: SKUS.length - 1 }),
  spelling: fc.integer({ min: 0, max: SPELLINGS.length - 1 }),
  quantity: fc.integer({ min: 1, max: 40 }),
});

const operation = fc.oneof(
  fc.record({ kind: fc.constant('receipt' as const), lines: fc.array(line, { minLength: 1, maxLength: 3 }) }),
  fc.record({
    kind: fc.constant('adjustment' as const),
    line,
    sign: fc.constantFrom(1, -1),
  }),
  fc.record({ kind: fc.constant('fulfilment' as const), lines: fc.array(line, { minLength: 1, maxLength: 3 }) }),
);

type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;
type Line = { sku: number; spelling: number; quantity: number };

let run = 0;

const spell = (prefix: string, l: Line) => {
  const [type, length] = SKUS[l.sku] as readonly [string, string];
  const write = SPELLINGS[l.spelling] as (s: string) => string;
  return { cable_type: write(`${prefix} ${type}`), cable_length: write(length), quantity: l.quantity };
};

async function perform(prefix: string, op: Operation): Promise<void> {
  if (op.kind === 'receipt') {
    const res = await admin.send('POST', '/api/cable-receiving', {
      vendor: 'Prop',
      items: op.lines.map((l) => spell(prefix, l)),
    });
    if (res.status !== 201) throw new Error(`receipt: ${res.status} ${res.text}`);
  } else if (op.kind === 'adjustment') {
    const { quantity, ...sku } = spell(prefix, op.line);
    const res = await admin.send('POST', '/api/inventory/adjustments', { ...sku, quantity: quantity * op.sign, reason: 'prop' });
    if (res.status !== 201) throw new Error(`adjustment: ${res.status} ${res.text}`);
  } else {
    const ticket = await createTicket(tech, { assigned_to_id: stockUser.id, items: op.lines.map((l) => spell(prefix, l)) });
    await driveTo(stock, ticket.id, 'fulfilled');
  }
}

/** What on-hand must be per SKU key after `ops`. */
function model(prefix: string, ops: Operation[]): Map<string, number> {
  const expected = new Map<string, number>();
  const add = (l: Line, sign: number) => {
    const s = spell(prefix, l);
    const key = skuKey(s.cable_type, s.cable_length);
    expected.set(key, (expected.get(key) ?? 0) + sign * l.quantity);
  };
  for (const op of ops) {
    if (op.kind === 'receipt') for (const l of op.lines) add(l, 1);
    else if (op.kind === 'adjustment') add(op.line, op.sign);
    else for (const l of op.lines) add(l, -1);
  }
  return expected;
}

test.serial('stock equals the ledger (and the model) after any mix of operations', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 7 }), fc.boolean(), async (ops, together) => {
      const prefix = `P${run++}`;
      if (together) await Promise.all(ops.map((op) => perform(prefix, op)));
      else for (const op of ops) await perform(prefix, op);

      const stockRows: { sku_key: string; cable_type: string; cable_length: string; on_hand: number | string }[] = await app
        .db('inventory_stock')
        .select('sku_key', 'cable_type', 'cable_length', 'on_hand')
        .orderBy('sku_key');
      const ledger: { sku_key: string; total: number | string }[] = (await app
        .db('inventory_movements')
        .select('sku_key')
        .sum({ total: 'quantity_delta' })
        .groupBy('sku_key')) as never;
      const fromLedger = new Map(ledger.map((r) => [r.sku_key, Number(r.total)]));

      // Every SKU: stock row == ledger sum (the whole database, all runs so far).
      for (const row of stockRows) {
        if (Number(row.on_hand) !== (fromLedger.get(row.sku_key) ?? 0)) return false;
        // The key is the normalised display spelling (first spelling seen).
        if (skuKey(row.cable_type, row.cable_length) !== row.sku_key) return false;
      }
      if (ledger.some((r) => !stockRows.some((s) => s.sku_key === r.sku_key))) return false;

      // This run's SKUs: exactly what the model says.
      const expected = model(prefix, ops);
      const mine = stockRows.filter((r) => r.sku_key.startsWith(`${prefix.toLowerCase()} `));
      if (mine.length !== expected.size) return false;
      return mine.every((r) => expected.get(r.sku_key) === Number(r.on_hand));
    }),
    { numRuns: 15, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
  );
  t.is(run, 15);
  const kinds = await app.db('inventory_movements').distinct('movement_type').orderBy('movement_type');
  t.true(kinds.length >= 2, JSON.stringify(kinds));
});
