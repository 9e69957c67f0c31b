import test from 'ava';
import fc from 'fast-check';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import { createUser, personalTokenClient, signedInClient, tokenClient } from './support/factories.ts';
import { api, FUZZ_SEED, type FuzzRequest, formPost, fuzz, fuzzTally, pathSegment, queryString } from './support/fuzz.ts';

/**
 * Fuzzing what issue #23 added (issue #9 §2's properties): personal tokens (API and the settings
 * forms), webhooks (API, admin forms and pages), the API's description (/api/openapi.json, /api/docs).
 * No 5xx, `{error, fields?}` or a page with a role=alert message, and a rejected request changes no row.
 */

let app: TestApp;
let owner: Client;
let browser: Client;
let csrf: string;
const tokenIds: string[] = [];
const webhookIds: string[] = [];
const deliveryIds: string[] = [];

test.before(async () => {
  app = await startApp();
  const boss = await createUser(app.db, { username: 'integrations_admin', role: 'admin' });
  owner = await tokenClient(app.url, boss.username);
  browser = await signedInClient(app.url, boss.username);
  csrf = await browser.csrfFrom('/settings/tokens');
  for (const scope of ['read', 'write'] as const) tokenIds.push(String((await personalTokenClient(owner, scope)).id));
  for (const events of [['optics_request.created'], ['ticket.created', 'stock.low']]) {
    const res = await owner.send('POST', '/api/webhooks', { url: 'https://hooks.example.test/in', events });
    webhookIds.push(String(res.json.webhook.id));
  }
  await owner.send('POST', '/api/optics-requests', { selected_part: 'SFP-10G-SR', quantity: 1, requester_name: 'Fuzz F' });
  for (const row of await app.db('webhook_deliveries').select('id')) deliveryIds.push(String(row.id));
  await app.db('webhook_deliveries').update({ status: 'failed' });
});
test.after.always(async () => {
  await app?.close();
});

const form = (path: fc.Arbitrary<string>, valid: Record<string, string>) => formPost(csrf, path, valid);

test.serial('personal tokens: GET, POST /api/tokens, DELETE /api/tokens/:id', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET|POST /api/tokens, DELETE /api/tokens/:id',
    client: owner,
    logs: app.logs,
    audience: 'json',
    numRuns: 250,
    requests: fc.oneof(
      api('GET', fc.constant('/api/tokens'), { query: ['limit', 'cursor'] }),
      api('POST', fc.constant('/api/tokens'), { body: { name: 'fuzzed', scope: 'read', expires_in_days: 30 } }),
      api(
        'DELETE',
        pathSegment(tokenIds).map((i) => `/api/tokens/${i}`),
      ),
    ),
  });
});

test.serial('the settings forms: make and revoke a token', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /settings/tokens, /settings/tokens/:id/revoke',
    client: browser,
    logs: app.logs,
    audience: 'html',
    numRuns: 200,
    requests: fc.oneof(
      form(fc.constant('/settings/tokens'), { name: 'fuzzed form', scope: 'write', expires_in_days: '7' }),
      form(
        pathSegment(tokenIds).map((i) => `/settings/tokens/${i}/revoke`),
        {},
      ),
    ),
  });
});

const WEBHOOK = { url: 'https://hooks.example.test/fuzz', events: ['ticket.created'], description: 'fuzz' };

test.serial('webhooks: the JSON API', async (t) => {
  const hook = pathSegment(webhookIds);
  await fuzz(t, app.db, {
    name: 'GET|POST /api/webhooks, GET|PATCH|DELETE /api/webhooks/:id, …/secret, …/deliveries, redeliver',
    client: owner,
    logs: app.logs,
    audience: 'json',
    numRuns: 400,
    requests: fc.oneof(
      api('GET', fc.constant('/api/webhooks'), { query: ['limit'] }),
      api('POST', fc.constant('/api/webhooks'), { body: WEBHOOK, extraKeys: ['enabled', 'secret'] }),
      api(
        'GET',
        hook.map((i) => `/api/webhooks/${i}`),
      ),
      api(
        'PATCH',
        hook.map((i) => `/api/webhooks/${i}`),
        { body: { ...WEBHOOK, enabled: true } },
      ),
      api(
        'POST',
        hook.map((i) => `/api/webhooks/${i}/secret`),
        { body: {} },
      ),
      api(
        'GET',
        hook.map((i) => `/api/webhooks/${i}/deliveries`),
        { query: ['status', 'limit', 'cursor'] },
      ),
      api(
        'POST',
        pathSegment(deliveryIds).map((i) => `/api/webhook-deliveries/${i}/redeliver`),
        { body: {} },
      ),
      api(
        'DELETE',
        hook.map((i) => `/api/webhooks/${i}`),
      ),
    ),
  });
});

test.serial('webhooks: the admin forms', async (t) => {
  const hook = pathSegment(webhookIds);
  const valid = { url: 'https://hooks.example.test/form', events: 'stock.low', description: 'form', enabled: 'true' };
  await fuzz(t, app.db, {
    name: 'POST /admin/webhooks[/:id[/secret|/delete]], /admin/webhook-deliveries/:id/redeliver',
    client: browser,
    logs: app.logs,
    audience: 'html',
    numRuns: 300,
    requests: fc.oneof(
      form(fc.constant('/admin/webhooks'), valid),
      form(
        hook.map((i) => `/admin/webhooks/${i}`),
        valid,
      ),
      form(
        hook.map((i) => `/admin/webhooks/${i}/secret`),
        {},
      ),
      form(
        pathSegment(deliveryIds).map((i) => `/admin/webhook-deliveries/${i}/redeliver`),
        {},
      ),
      form(
        hook.map((i) => `/admin/webhooks/${i}/delete`),
        {},
      ),
    ),
  });
});

test.serial('the API description and the settings page with hostile query strings', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET /api/docs, /settings/tokens, /admin/webhooks[/:id]',
    client: browser,
    logs: app.logs,
    audience: 'html',
    numRuns: 100,
    requests: fc.oneof(
      fc
        .record({ path: fc.constantFrom('/api/docs', '/settings/tokens', '/admin/webhooks'), query: queryString(['tag', 'q']) })
        .map(({ path, query }): FuzzRequest => ({ method: 'GET', path: path + query })),
      fc
        .record({
          path: pathSegment(webhookIds).map((i) => `/admin/webhooks/${i}`),
          query: queryString(['status', 'limit', 'cursor']),
        })
        .map(({ path, query }): FuzzRequest => ({ method: 'GET', path: path + query })),
    ),
  });
  await fuzz(t, app.db, {
    name: 'GET /api/openapi.json',
    client: owner,
    logs: app.logs,
    audience: 'json',
    numRuns: 50,
    requests: api('GET', fc.constant('/api/openapi.json'), { query: ['format', 'v'] }),
  });
});

test.after('figures', (t) => {
  t.log(`${fuzzTally.cases} cases over ${fuzzTally.endpoints} endpoint groups (seed ${FUZZ_SEED})`);
});
