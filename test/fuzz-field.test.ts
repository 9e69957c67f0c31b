import test from 'ava';
import fc from 'fast-check';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { createUser, signedInClient, tokenClient } from './support/factories.ts';
import { api, FUZZ_SEED, type FuzzRequest, formBody, fuzz, fuzzTally, hostileString, queryString } from './support/fuzz.ts';

/**
 * Fuzzing field mode (issue 21): the app's files and pages with hostile query strings, the queue's
 * session route, and Idempotency-Key in every spelling a client could send (the header on JSON
 * requests, the hidden field on forms, both at once). No 5xx, the usual error shapes, and a
 * rejected request changes no row (an Idempotency-Key refused is not kept either).
 */

let app: TestApp;
let browser: Client;
let bearer: Client;
let csrf: string;
let assignee: string;

test.before(async () => {
  app = await startApp();
  await createUser(app.db, { username: 'fuzz_field' });
  assignee = String((await createUser(app.db, { username: 'fuzz_field_approver' })).id);
  browser = await signedInClient(app.url, 'fuzz_field');
  csrf = await browser.csrfFrom('/');
  bearer = await tokenClient(app.url, 'fuzz_field');
});
test.after.always(async () => {
  await app?.close();
});

/** Keys as clients write them: UUIDs, RFC 8941 strings, and anything at all. */
const key: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.uuid(), weight: 3 },
  { arbitrary: fc.uuid().map((u) => `"${u}"`), weight: 1 },
  {
    arbitrary: fc.constantFrom('', '""', '"', '"a\\', '"a" b', '"a";p=1', 'x'.repeat(255), 'x'.repeat(256), ' a ', 'a, b'),
    weight: 2,
  },
  { arbitrary: hostileString, weight: 3 },
);
/**
 * Only what a header can carry: fetch refuses other characters, and Node answers a header past 16 KB
 * itself (431), before the app.
 */
const headerSafe = (value: string) => value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '').slice(0, 4000);

test.serial('the app’s files and pages with hostile query strings', async (t) => {
  for (const [client, audience, paths] of [
    [new Client(app.url), 'html', ['/drafts', '/sw.js', '/manifest.webmanifest']],
    [browser, 'json', ['/api/session']],
  ] as const) {
    await fuzz(t, app.db, {
      name: `GET ${paths.join(', ')}`,
      client,
      audience,
      logs: app.logs,
      numRuns: 60,
      requests: fc
        .record({ path: fc.constantFrom(...paths), query: queryString(['draft', 'queued', 'unsent', 'v']) })
        .map(({ path, query }): FuzzRequest => ({ method: 'GET', path: path + query })),
    });
  }
});

test.serial('JSON requests with hostile Idempotency-Key headers', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /api/tickets, /api/optics-requests with Idempotency-Key',
    client: bearer,
    audience: 'json',
    logs: app.logs,
    numRuns: 150,
    requests: fc
      .tuple(
        fc.oneof(
          api('POST', fc.constant('/api/tickets'), {
            body: {
              assigned_to_id: Number(assignee),
              location: 'Fuzz hut',
              items: [{ cable_type: 'Cat6', cable_length: '1m', quantity: 1 }],
            },
          }),
          api('POST', fc.constant('/api/optics-requests'), {
            body: { selected_part: 'Other', other_part: 'X-1', quantity: 1, requester_name: 'Fu Z' },
          }),
        ),
        key,
      )
      .map(([req, k]) => ({ ...req, headers: { 'idempotency-key': headerSafe(k) } })),
  });
});

test.serial('forms with a hostile idempotency_key field (and sometimes a header beside it)', async (t) => {
  const ticket = {
    assigned_to_id: assignee,
    location: 'Fuzz yard',
    'items[0][cable_type]': 'Cat6',
    'items[0][cable_length]': '5m',
    'items[0][quantity]': '1',
  };
  await fuzz(t, app.db, {
    name: 'POST /tickets, /optics with idempotency_key',
    client: browser,
    audience: 'html',
    logs: app.logs,
    numRuns: 150,
    requests: fc
      .record({
        path: fc.constantFrom('/tickets', '/optics'),
        body: formBody(ticket, ['idempotency_key', 'add_item']),
        field: fc.option(key, { freq: 2 }),
        header: fc.option(key, { freq: 3 }),
        htmx: fc.boolean(),
      })
      .map(({ path, body, field, header, htmx }): FuzzRequest => {
        const headers: Record<string, string> = { 'x-csrf-token': csrf };
        if (header !== null) headers['idempotency-key'] = headerSafe(header);
        if (htmx) headers['hx-request'] = 'true';
        return {
          method: 'POST',
          path,
          body: field === null ? body : `${body}&idempotency_key=${encodeURIComponent(field)}`,
          contentType: 'application/x-www-form-urlencoded',
          headers,
        };
      }),
  });
});

test.after('figures', (t) => {
  t.log(`${fuzzTally.cases} cases over ${fuzzTally.endpoints} endpoint groups (seed ${FUZZ_SEED})`);
});
