import test from 'ava';
import { startApp, type TestApp } from './support/app.ts';
import { buildCast, buildReel } from './support/factories.ts';
import { createTicket } from './support/tickets.ts';

/**
 * INVENTORY_ENFORCE_STOCK=true with bulk cable: approval reserves length at the source, so a request
 * for more length than the reels there have available is a 409 naming the cable in its unit, and
 * nothing is reserved.
 */

let app: TestApp;
let cast: Awaited<ReturnType<typeof castOf>>;
const castOf = (a: TestApp) => buildCast(a, { tech: {}, keeper: {} });

test.before(async () => {
  app = await startApp({ INVENTORY_ENFORCE_STOCK: 'true' });
  cast = await castOf(app);
});
test.after.always(() => app?.close());

const ask = (quantity: number) =>
  createTicket(cast.tech.api, {
    assigned_to_id: cast.keeper.user.id,
    items: [{ cable_type: 'Cat6', cable_length: '200 ft', quantity }],
  });

test('an approval past the length on reels is a 409 in feet; within it, it reserves', async (t) => {
  await buildReel(app, { cable_type: 'Cat6', length: '300 ft' });
  const big = await ask(2);
  const refused = await cast.keeper.api.send('PATCH', `/api/tickets/${big.id}`, { status: 'approved' });
  t.is(refused.status, 409);
  t.is(
    refused.json.error,
    'Not enough stock to approve this request: Cat6 on reels at Main warehouse (needs 400 ft, 300 ft available).',
  );
  t.is((await app.db('tickets').where({ id: big.id }).first()).status, 'pending_approval');
  t.is(await app.db('stock_reservations').where({ ticket_id: big.id }).first(), undefined);

  const one = await ask(1);
  t.is((await cast.keeper.api.send('PATCH', `/api/tickets/${one.id}`, { status: 'approved' })).status, 200);
  const again = await ask(1);
  const second = await cast.keeper.api.send('PATCH', `/api/tickets/${again.id}`, { status: 'approved' });
  t.is(second.status, 409);
  t.regex(second.json.error, /Cat6 on reels at Main warehouse \(needs 200 ft, 100 ft available\)/);
});

test('a line longer in all than a stored amount holds is not cut from reels: its counted SKU is short, a 409, not a 500', async (t) => {
  await buildReel(app, { cable_type: 'Cat6a', length: '1000 ft' });
  const huge = await createTicket(cast.tech.api, {
    assigned_to_id: cast.keeper.user.id,
    items: [{ cable_type: 'Cat6a', cable_length: '1000 ft', quantity: 100_000 }],
  });
  const page = await cast.tech.api.get(`/tickets/${huge.id}`, { accept: 'text/html' });
  t.is(page.status, 200);
  const refused = await cast.keeper.api.send('PATCH', `/api/tickets/${huge.id}`, { status: 'approved' });
  t.is(refused.status, 409);
  t.regex(refused.json.error, /^Not enough stock to approve this request: Cat6a 1000 ft at Main warehouse/);
  t.is(
    await app
      .db('stock_reservations')
      .where({ ticket_id: huge.id })
      .count({ n: '*' })
      .first()
      .then((r) => Number(r?.n)),
    0,
  );
});
