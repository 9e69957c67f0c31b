import test from 'ava';
import fc from 'fast-check';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import { createUser, personalTokenClient, signedInClient, tokenClient } from './support/factories.ts';
import { api, FUZZ_SEED, type FuzzRequest, formBody, fuzz, fuzzTally, pathSegment, queryString } from './support/fuzz.ts';

/**
 * Fuzzing what issue #23 added (issue #9 §2's properties): personal tokens (API and the settings
 * forms), the API's description (/api/openapi.json, /api/docs). No 5xx, `{error, fields?}` or a page
 * with a role=alert message, and a rejected request changes no row.
 */

let app: TestApp;
let owner: Client;
let browser: Client;
let csrf: string;
const tokenIds: string[] = [];

test.before(async () => {
  app = await startApp();
  const boss = await createUser(app.db, { username: 'integrations_admin', role: 'admin' });
  owner = await tokenClient(app.url, boss.username);
  browser = await signedInClient(app.url, boss.username);
  csrf = await browser.csrfFrom('/settings/tokens');
  for (const scope of ['read', 'write'] as const) tokenIds.push(String((await personalTokenClient(owner, scope)).id));
});
test.after.always(async () => {
  await app?.close();
});

/** A form post (sometimes from htmx), with the session's CSRF token in the header htmx uses. */
function form(path: fc.Arbitrary<string>, valid: Record<string, string>): fc.Arbitrary<FuzzRequest> {
  return fc.record({ path, body: formBody(valid), htmx: fc.boolean() }).map(({ path: p, body, htmx }) => ({
    method: 'POST',
    path: p,
    body,
    contentType: 'application/x-www-form-urlencoded',
    headers: { 'x-csrf-token': csrf, ...(htmx ? { 'hx-request': 'true' } : {}) },
  }));
}

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

test.serial('the API description and the settings page with hostile query strings', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET /api/openapi.json, /api/docs, /settings',
    client: browser,
    logs: app.logs,
    audience: 'html',
    numRuns: 100,
    requests: fc
      .record({ path: fc.constantFrom('/api/docs', '/settings'), query: queryString(['tag', 'q']) })
      .map(({ path, query }): FuzzRequest => ({ method: 'GET', path: path + query })),
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
