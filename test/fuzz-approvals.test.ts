import test from 'ava';
import fc from 'fast-check';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { createUser, signedInClient, tokenClient } from './support/factories.ts';
import { api, FUZZ_SEED, type FuzzRequest, formBody, fuzz, fuzzTally, hostileString, pathSegment } from './support/fuzz.ts';
import { INBOUND_DOMAIN, INBOUND_SECRET, replyTo } from './support/inbound-email.ts';
import { createTicket, driveTo } from './support/tickets.ts';

/**
 * Fuzzing the routes of approvals that do not stall: the decision (API and form), delegation (API and
 * settings form) and SendGrid's inbound email post (hostile multipart bodies). No 5xx, the documented
 * error shape, and a refused request changes no row.
 */

let app: TestApp;
let admin: Client;
let browser: Client;
let csrf: string;
const ticketIds: string[] = [];
const itemIds: string[] = [];
const replyAddresses: string[] = [];

test.before(async () => {
  app = await startApp({
    INBOUND_EMAIL_DOMAIN: INBOUND_DOMAIN,
    INBOUND_EMAIL_SECRET: INBOUND_SECRET,
    INBOUND_EMAIL_MAX_KB: '256',
  });
  const boss = await createUser(app.db, { username: 'fuzz_boss', role: 'admin', email: 'boss@example.test' });
  const tech = await createUser(app.db, { username: 'fuzz_tech' });
  const stock = await createUser(app.db, { username: 'fuzz_stock', email: 'stock@example.test' });
  admin = await tokenClient(app.url, boss.username);
  browser = await signedInClient(app.url, boss.username);
  csrf = await browser.csrfFrom('/settings');
  const creator = await tokenClient(app.url, tech.username);
  for (const status of ['pending_approval', 'pending_approval', 'pending_approval', 'approved', 'pending_approval']) {
    const ticket = await createTicket(creator, {
      assigned_to_id: stock.id,
      items: [
        { cable_type: 'Cat6', cable_length: '100ft', quantity: 3 },
        { cable_type: 'OM4', cable_length: '10m', quantity: 1 },
      ],
    });
    await driveTo(admin, ticket.id, status);
    ticketIds.push(String(ticket.id));
    itemIds.push(...ticket.items.map((i: { id: number }) => String(i.id)));
    replyAddresses.push(replyTo(app, ticket.id));
  }
});
test.after.always(async () => {
  await app?.close();
});

const id = () => pathSegment(ticketIds);
const itemId = () => fc.oneof(fc.constantFrom(...itemIds).map(Number), fc.integer(), hostileString);
const quantity = fc.oneof(fc.integer({ min: -5, max: 10 }), fc.constantFrom(0, 1, 3, 1e12, -0, 1.5), hostileString);
const lines = () =>
  fc.oneof(
    fc.array(fc.record({ item_id: itemId(), approved_quantity: quantity, note: fc.oneof(hostileString, fc.constant('n')) }), {
      maxLength: 4,
    }),
    hostileString,
    fc.constant(null),
  );

test.serial('POST /api/tickets/:id/decision', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /api/tickets/:id/decision',
    client: admin,
    audience: 'json',
    numRuns: 250,
    requests: fc.oneof(
      api(
        'POST',
        id().map((i) => `/api/tickets/${i}/decision`),
        {
          body: { decision: 'approve', reason: 'ok', items: [{ item_id: Number(itemIds[0]), approved_quantity: 2, note: 'n' }] },
        },
      ),
      fc
        .record({ i: fc.constantFrom(...ticketIds), decision: fc.constantFrom('approve', 'reject', 'maybe'), items: lines() })
        .map(
          ({ i, decision, items }): FuzzRequest => ({
            method: 'POST',
            path: `/api/tickets/${i}/decision`,
            body: JSON.stringify({ decision, items, reason: 'because' }),
            contentType: 'application/json',
          }),
        ),
    ),
  });
});

test.serial('GET|PUT|DELETE /api/me/delegation', async (t) => {
  const later = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
  await fuzz(t, app.db, {
    name: 'GET|PUT|DELETE /api/me/delegation',
    client: admin,
    audience: 'json',
    numRuns: 250,
    requests: fc.oneof(
      api('PUT', fc.constant('/api/me/delegation'), {
        body: { delegate: 'fuzz_stock', away_from: later(0), away_until: later(3) },
        extraKeys: ['delegate_id'],
      }),
      api('GET', fc.constant('/api/me/delegation'), { query: ['user_id'] }),
      api('DELETE', fc.constant('/api/me/delegation'), { body: {} }),
    ),
  });
});

test.serial('the decision and settings forms', async (t) => {
  const form = (path: fc.Arbitrary<string>, valid: Record<string, string>, extraKeys: string[] = []) =>
    fc.record({ path, body: formBody(valid, extraKeys), htmx: fc.boolean() }).map(
      ({ path: p, body, htmx }): FuzzRequest => ({
        method: 'POST',
        path: p,
        body,
        contentType: 'application/x-www-form-urlencoded',
        headers: { 'x-csrf-token': csrf, ...(htmx ? { 'hx-request': 'true' } : {}) },
      }),
    );
  await fuzz(t, app.db, {
    name: 'POST /tickets/:id/decision, /settings/delegation[/clear]',
    client: browser,
    logs: app.logs,
    audience: 'html',
    numRuns: 250,
    requests: fc.oneof(
      form(
        id().map((i) => `/tickets/${i}/decision`),
        { decision: 'approve', 'items[0][item_id]': itemIds[0] as string, 'items[0][approved_quantity]': '1', reason: 'r' },
        ['items[0][note]', 'items[1][item_id]', 'items[1][approved_quantity]', 'items'],
      ),
      form(fc.constant('/settings/delegation'), { delegate: 'fuzz_stock', away_from: '2099-01-01', away_until: '2099-01-03' }, [
        'delegate_id',
      ]),
      form(fc.constant('/settings/delegation/clear'), {}),
    ),
  });
});

/** A multipart/form-data body as SendGrid posts one, its field values as given. */
function multipart(fields: [string, string][], boundary: string): string {
  return `${fields.map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`).join('')}--${boundary}--\r\n`;
}

test.serial('POST /api/inbound/email with hostile multipart bodies', async (t) => {
  const field = (valid: fc.Arbitrary<string>) =>
    fc.oneof({ arbitrary: valid, weight: 3 }, { arbitrary: hostileString, weight: 2 });
  const mail = fc.record({
    from: field(fc.constantFrom('Stock <stock@example.test>', 'boss@example.test', 'x@evil.example')),
    to: field(fc.constantFrom(...replyAddresses, `approve+1.0000@${INBOUND_DOMAIN}`)),
    text: field(fc.constantFrom('YES', 'NO out of stock', 'REJECT', '> YES', 'On Mon wrote:\n> YES', '')),
    html: field(fc.constantFrom('<p>Yes</p>', '<div class="gmail_quote">YES</div>', '<blockquote>NO x</blockquote>')),
    dkim: field(fc.constantFrom('{@example.test : pass}', '{@evil.example : pass}', '', '{')),
    SPF: field(fc.constantFrom('pass', 'fail', 'softfail')),
    envelope: field(fc.constantFrom('{"to":["x"],"from":"a@example.test"}', '{', 'null', '[]', '{"to":"x"}')),
    charsets: field(fc.constantFrom('{"text":"utf-8"}', '{"text":"iso-8859-1"}', '{"text":"no-such-charset"}', 'x')),
    boundary: fc.constantFrom('xYzZy', '----WebKitFormBoundary7MA4YWxkTrZu0gW'),
    broken: fc.nat(20),
  });
  await fuzz(t, app.db, {
    name: 'POST /api/inbound/email',
    client: new Client(app.url),
    audience: 'json',
    numRuns: 200,
    requests: mail.map(({ boundary, broken, ...fields }): FuzzRequest => {
      const body = multipart(Object.entries(fields), boundary);
      return {
        method: 'POST',
        path: '/api/inbound/email',
        // Now and then a body cut short, or a boundary that does not match.
        body: broken === 0 ? body.slice(0, body.length / 2) : body,
        contentType: `multipart/form-data; boundary=${broken === 1 ? 'other' : boundary}`,
        headers: { authorization: `Basic ${Buffer.from(`inbound:${INBOUND_SECRET}`).toString('base64')}` },
      };
    }),
  });
});

test.after('figures', (t) => {
  t.log(`${fuzzTally.cases} cases over ${fuzzTally.endpoints} endpoint groups (seed ${FUZZ_SEED})`);
});
