import test from 'ava';
import fc from 'fast-check';
import twilio from 'twilio';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { buildCast } from './support/factories.ts';
import { TWILIO_TOKEN } from './support/fake-providers.ts';
import { api, encode, FUZZ_SEED, fuzz, fuzzTally, hostileString, pathSegment } from './support/fuzz.ts';
import { createTicket } from './support/tickets.ts';

/**
 * Fuzzing the JSON API of inventory, optics requests, the notification log and the Twilio SMS
 * webhook (issue #9 §2). Same properties as fuzz-api-tickets: no 5xx, `{error, fields?}`, and a
 * rejected request changes no row.
 */

const APP_URL = 'https://tickets.example.test';
const ASSIGNEE_PHONE = '+12025550142';

let app: TestApp;
let admin: Client;
let user: Client;
const receiptIds: string[] = [];
const opticsIds: string[] = [];
const notificationIds: string[] = [];
const ticketIds: string[] = [];

test.before(async () => {
  app = await startApp({ APP_URL, TWILIO_AUTH_TOKEN: TWILIO_TOKEN });
  const cast = await buildCast(app, {
    stock_admin: { role: 'admin' },
    stock_tech: {},
    stock_assignee: { phone: ASSIGNEE_PHONE },
  });
  admin = cast.stock_admin.api;
  user = cast.stock_tech.api;
  const assignee = cast.stock_assignee.user;
  for (const vendor of ['Acme', 'Cables R Us']) {
    const res = await admin.send('POST', '/api/cable-receiving', {
      vendor,
      items: [
        { cable_type: 'Cat6', cable_length: '100ft', quantity: 50 },
        { cable_type: 'OM4', cable_length: '3m', quantity: 20 },
      ],
    });
    receiptIds.push(String(res.json.receipt.id));
  }
  for (let i = 0; i < 3; i += 1) {
    const res = await user.send('POST', '/api/optics-requests', {
      selected_part: 'SFP-10G-SR',
      quantity: 2,
      requester_name: 'Tess T',
    });
    opticsIds.push(String(res.json.optics_request.id));
    const ticket = await createTicket(user, { assigned_to_id: assignee.id });
    ticketIds.push(String(ticket.id));
  }
  const rows = await app.db('notifications').select('id');
  for (const row of rows.slice(0, 4)) notificationIds.push(String(row.id));
  await app.db('notifications').whereIn('id', notificationIds.slice(0, 2)).update({ status: 'failed' });
});
test.after.always(async () => {
  await app?.close();
});

const ITEM = { cable_type: 'Cat6', cable_length: '100ft', quantity: 5 };

test.serial('GET /api/inventory/on-hand and /api/inventory/movements', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET /api/inventory/on-hand, /movements',
    client: admin,
    audience: 'json',
    numRuns: 200,
    requests: fc.oneof(
      api('GET', fc.constant('/api/inventory/on-hand'), { query: ['include_zero'] }),
      api('GET', fc.constant('/api/inventory/movements'), {
        query: ['movement_type', 'source_type', 'source_id', 'limit', 'cursor'],
      }),
    ),
  });
});

test.serial('PATCH /api/inventory/stock/threshold', async (t) => {
  await fuzz(t, app.db, {
    name: 'PATCH /api/inventory/stock/threshold',
    client: admin,
    audience: 'json',
    numRuns: 200,
    requests: api('PATCH', fc.constant('/api/inventory/stock/threshold'), {
      body: { cable_type: 'cat6 ', cable_length: '100FT', reorder_threshold: 10 },
    }),
  });
});

test.serial('POST /api/cable-receiving', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /api/cable-receiving',
    client: admin,
    audience: 'json',
    numRuns: 300,
    requests: fc.oneof(
      api('POST', fc.constant('/api/cable-receiving'), {
        body: { vendor: 'Acme', po_number: 'PO-1', notes: 'dock 3', items: [ITEM] },
      }),
      // Hostile item rows inside an otherwise valid receipt.
      fc
        .array(fc.dictionary(fc.constantFrom('cable_type', 'cable_length', 'quantity', 'x'), fc.anything()), { maxLength: 3 })
        .map((items) => ({
          method: 'POST',
          path: '/api/cable-receiving',
          body: JSON.stringify({ vendor: 'Acme', items }),
          contentType: 'application/json',
        })),
    ),
  });
});

test.serial('GET /api/cable-receiving[/:id]', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET /api/cable-receiving[/:id]',
    client: admin,
    audience: 'json',
    numRuns: 150,
    requests: fc.oneof(
      api('GET', fc.constant('/api/cable-receiving'), { query: ['limit', 'cursor'] }),
      api(
        'GET',
        pathSegment(receiptIds).map((id) => `/api/cable-receiving/${id}`),
      ),
    ),
  });
});

test.serial('POST /api/inventory/adjustments', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /api/inventory/adjustments',
    client: admin,
    audience: 'json',
    numRuns: 250,
    requests: api('POST', fc.constant('/api/inventory/adjustments'), {
      body: { cable_type: 'Cat6', cable_length: '100ft', quantity: -2, reason: 'damaged' },
    }),
  });
});

test.serial('optics parts: GET, POST, DELETE /api/optics-parts', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET|POST /api/optics-parts, DELETE /api/optics-parts/:part',
    client: admin,
    audience: 'json',
    numRuns: 200,
    requests: fc.oneof(
      api('GET', fc.constant('/api/optics-parts'), { query: ['q'] }),
      api('POST', fc.constant('/api/optics-parts'), { body: { part_number: 'SFP-NEW-1' } }),
      api(
        'DELETE',
        pathSegment(['SFP-1G-LX', 'Other', 'sfp-10g-lr', 'QSFP-40G-SR4']).map((p) => `/api/optics-parts/${p}`),
      ),
    ),
  });
});

test.serial('POST /api/optics-requests', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /api/optics-requests',
    client: user,
    audience: 'json',
    numRuns: 250,
    requests: api('POST', fc.constant('/api/optics-requests'), {
      body: { selected_part: 'Other', other_part: 'XFP-10G-ZR', quantity: 3, requester_name: 'Tess T' },
    }),
  });
});

test.serial('GET /api/optics-requests[/:id] and PATCH …/status', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET /api/optics-requests[/:id], PATCH /api/optics-requests/:id/status',
    client: admin,
    audience: 'json',
    numRuns: 250,
    requests: fc.oneof(
      api('GET', fc.constant('/api/optics-requests'), { query: ['status', 'include_archived', 'limit', 'cursor'] }),
      api(
        'GET',
        pathSegment(opticsIds).map((id) => `/api/optics-requests/${id}`),
      ),
      api(
        'PATCH',
        pathSegment(opticsIds).map((id) => `/api/optics-requests/${id}/status`),
        {
          body: { action: 'approve', admin_note: 'ok' },
        },
      ),
    ),
  });
});

test.serial('the notification log and retry', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET /api/notifications[/:id], POST /api/notifications/:id/retry',
    client: admin,
    audience: 'json',
    numRuns: 200,
    requests: fc.oneof(
      api('GET', fc.constant('/api/notifications'), { query: ['status', 'channel', 'cursor', 'limit'] }),
      api(
        'GET',
        pathSegment(notificationIds).map((id) => `/api/notifications/${id}`),
        { query: ['id'] },
      ),
      api(
        'POST',
        pathSegment(notificationIds).map((id) => `/api/notifications/${id}/retry`),
        {
          query: ['status', 'channel'],
          body: {},
        },
      ),
    ),
  });
});

test.serial('the Twilio SMS webhook, signed and unsigned', async (t) => {
  const field = fc.oneof(
    { arbitrary: fc.constantFrom('From', 'Body', 'To', 'MessageSid', 'NumMedia'), weight: 4 },
    { arbitrary: fc.constantFrom('From[]', 'Body[a]', '__proto__[x]', 'From[0]'), weight: 1 },
  );
  const value = fc.oneof(
    { arbitrary: fc.constantFrom(ASSIGNEE_PHONE, '+12025550100', '12025550142', '+1 (202) 555-0142'), weight: 2 },
    { arbitrary: fc.constantFrom(...ticketIds.flatMap((id) => [`YES ${id}`, `no ${id} too long`, `NO ${id}`])), weight: 2 },
    { arbitrary: hostileString.map((s) => s.slice(0, 2000)), weight: 4 },
  );
  const signedUrl = `${APP_URL}/api/twilio/sms`;
  await fuzz(t, app.db, {
    name: 'POST /api/twilio/sms',
    client: new Client(app.url),
    audience: 'json',
    numRuns: 250,
    requests: fc
      .record({ pairs: fc.array(fc.tuple(field, value), { maxLength: 5 }), sign: fc.boolean(), query: fc.option(hostileString) })
      .map(({ pairs, sign, query }) => {
        // Signed over the fields as a flat object: what Twilio does for its own (flat) fields.
        const params = Object.fromEntries(pairs);
        const path = `/api/twilio/sms${query === null ? '' : `?q=${encode(query.slice(0, 300))}`}`;
        const signature = twilio.getExpectedTwilioSignature(
          TWILIO_TOKEN,
          signedUrl + path.slice('/api/twilio/sms'.length),
          params,
        );
        return {
          method: 'POST',
          path,
          body: pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&'),
          contentType: 'application/x-www-form-urlencoded',
          headers: (sign ? { 'X-Twilio-Signature': signature } : {}) as Record<string, string>,
        };
      }),
  });
});

test.after('figures', (t) => {
  t.log(`${fuzzTally.cases} cases over ${fuzzTally.endpoints} endpoint groups (seed ${FUZZ_SEED})`);
});
