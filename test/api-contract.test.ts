import { Validator } from '@seriousme/openapi-schema-validator';
import test from 'ava';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { breachOf, type Contract, contractFor, contractOf } from './support/contract.ts';
import { buildCast } from './support/factories.ts';
import { rawRequest } from './support/raw.ts';
import { registeredRoutes } from './support/routes.ts';

/**
 * The OpenAPI document against the app (issue #23). Every `/api` route the routers register has an
 * operation and every operation a route (as the authorization matrix does for its table); the document
 * is valid OpenAPI 3.1; every example in it validates against its own schema; the checker every test's
 * API call goes through (support/contract.ts) catches what it should; the hand-written body parsers
 * accept and refuse exactly at the limits the document gives; the document is served from memory with
 * an ETag; /api/docs shows every operation.
 */

// biome-ignore lint/suspicious/noExplicitAny: the document is plain JSON, walked by its OpenAPI structure
type J = any;

let app: TestApp;
let doc: Record<string, J>;
let contract: Contract;

test.before(async () => {
  app = await startApp();
  const res = await new Client(app.url).get('/api/openapi.json');
  doc = res.json;
  contract = contractOf(doc);
});
test.after.always(async () => {
  await app?.close();
});

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const documented = () =>
  Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((m) => METHODS.includes(m))
      .map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
  );

test('every registered /api route has an operation in the document, and every operation a route', (t) => {
  const routes = registeredRoutes(app.app)
    .filter((r) => r.path === '/api' || r.path.startsWith('/api/'))
    .map((r) => `${r.method} ${r.path}`);
  const ops = documented();
  t.deepEqual(
    routes.filter((r) => !ops.includes(r)),
    [],
    'routes the API description does not document (add them to the feature’s openapi.ts)',
  );
  t.deepEqual(
    ops.filter((o) => !routes.includes(o)),
    [],
    'operations with no route',
  );
  t.true(routes.length >= 52, `${routes.length} API routes`);
  t.log(`${routes.length} API routes, all documented`);
});

test('the document is valid OpenAPI 3.1', async (t) => {
  const result = await new Validator().validate(structuredClone(doc));
  t.true(result.valid, JSON.stringify(result.errors, null, 2)?.slice(0, 2000));
  t.is(doc.openapi, '3.1.0');
});

test('every operation says who may call it, and lists 401 where sign-in is read', (t) => {
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, J>>)) {
    for (const [method, op] of Object.entries(item)) {
      const name = `${method.toUpperCase()} ${path}`;
      t.truthy(op.summary, `${name} has a summary`);
      t.true(['public', 'user', 'admin', 'link', 'twilio', 'inbound'].includes(op['x-access']), `${name} says who`);
      t.truthy(op.responses['503'], `${name} lists 503`);
      if (!['/api/health', '/api/ready'].includes(path)) t.truthy(op.responses['401'], `${name} lists 401`);
      if (method !== 'get') t.truthy(op.responses['403'], `${name} lists 403 (read-only tokens)`);
    }
  }
});

/** Each `example` in the document, with the pointer of the schema it must match. */
function examples(): { where: string; pointer: string; value: unknown }[] {
  const found: { where: string; pointer: string; value: unknown }[] = [];
  const seg = (s: string) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'));
  for (const section of ['paths', 'webhooks']) {
    for (const [path, item] of Object.entries((doc[section] ?? {}) as Record<string, Record<string, J>>)) {
      for (const [method, op] of Object.entries(item)) {
        const base = `/${section}/${seg(path)}/${method}`;
        for (const [type, media] of Object.entries((op.requestBody?.content ?? {}) as Record<string, J>)) {
          if (media.example !== undefined && media.schema) {
            found.push({
              where: `${method} ${path} request`,
              pointer: `${base}/requestBody/content/${seg(type)}/schema`,
              value: media.example,
            });
          }
        }
        for (const [status, response] of Object.entries((op.responses ?? {}) as Record<string, J>)) {
          for (const [type, media] of Object.entries((response.content ?? {}) as Record<string, J>)) {
            if (media.example === undefined || !media.schema || type !== 'application/json') continue;
            found.push({
              where: `${method} ${path} ${status}`,
              pointer: `${base}/responses/${seg(status)}/content/${seg(type)}/schema`,
              value: media.example,
            });
          }
        }
      }
    }
  }
  return found;
}

test('every example in the document validates against its schema', (t) => {
  const all = examples();
  t.true(all.length >= 72, `${all.length} examples`);
  const wrong: string[] = [];
  for (const e of all) {
    const validate = contract.validator(e.pointer);
    if (!validate(e.value)) wrong.push(`${e.where}: ${JSON.stringify(validate.errors?.slice(0, 2))}`);
  }
  t.deepEqual(wrong, []);
  t.log(`${all.length} examples checked`);
});

test('the checker every API call goes through refuses what the document does not allow', (t) => {
  const ok = { status: 200, contentType: 'application/json; charset=utf-8', text: '[]', json: [] };
  t.is(breachOf(contract, 'GET', '/api/tickets', ok), undefined);
  t.is(breachOf(contract, 'GET', '/api/tickets?filter=mine', ok), undefined, 'the query string is not the path');
  t.regex(breachOf(contract, 'GET', '/api/tickets', { ...ok, json: [{ id: 'seven' }] }) ?? '', /schema refuses/);
  t.regex(breachOf(contract, 'GET', '/api/tickets', { ...ok, status: 418 }) ?? '', /does not list/);
  t.regex(
    breachOf(contract, 'GET', '/api/tickets', { ...ok, contentType: 'text/html' }) ?? '',
    /document says application\/json/,
  );
  t.regex(breachOf(contract, 'GET', '/api/tickets', { ...ok, json: undefined, text: 'oops' }) ?? '', /not JSON/);
  const error = { status: 404, contentType: 'application/json', text: '', json: { error: 'No ticket.', stack: 'x' } };
  t.regex(breachOf(contract, 'GET', '/api/tickets/1', error) ?? '', /stack/, 'an error body may hold only error and fields');
  t.is(breachOf(contract, 'GET', '/api/tickets/1', { ...error, json: { error: 'No ticket.' } }), undefined);
  const user = { id: 1, username: 'u', email: 'u@x.test', role: 'user', created_at: '2026-12-07T09:30:00.000Z' };
  t.regex(
    breachOf(contract, 'GET', '/api/users/1', { ...ok, json: { ...user, password_hash: 'scrypt$…' } }) ?? '',
    /password_hash/,
    'an undocumented field is a breach',
  );
  t.regex(breachOf(contract, 'GET', '/api/users/1', { ...ok, json: { ...user, created_at: 'yesterday' } }) ?? '', /\/created_at/);
  t.is(breachOf(contract, 'GET', '/api/no-such-thing', ok), undefined, 'an address with no operation is the router’s 404');
});

test('the hand-written body parsers accept and refuse at the limits the document gives', async (t) => {
  const { maker, checker, boss } = await buildCast(app, { maker: {}, checker: {}, boss: { role: 'admin' } });
  const schemaOf = (path: string) => doc.paths[path].post.requestBody.content['application/json'].schema;
  type Case = { path: string; client: Client; valid: Record<string, unknown>; context?: Record<string, Record<string, unknown>> };
  const cases: Case[] = [
    {
      path: '/api/tickets',
      client: maker.api,
      valid: {
        assigned_to_id: checker.user.id,
        location: 'Dock 1',
        notes: 'n',
        items: [{ cable_type: 'Cat6', cable_length: '3m', quantity: 1 }],
      },
    },
    {
      path: '/api/optics-requests',
      client: maker.api,
      valid: { selected_part: 'SFP-10G-SR', quantity: 2, requester_name: 'Max M' },
      // other_part is read only for "Other", as the document says.
      context: { other_part: { selected_part: 'Other' } },
    },
    {
      path: '/api/cable-receiving',
      client: boss.api,
      valid: { vendor: 'Acme', po_number: 'PO-1', items: [{ cable_type: 'Cat6', cable_length: '3m', quantity: 4 }] },
    },
  ];
  for (const { path, client, valid, context } of cases) {
    const schema = schemaOf(path);
    t.is((await client.send('POST', path, valid)).status, 201, `${path}: the valid body`);
    for (const [name, prop] of Object.entries(schema.properties as Record<string, J>)) {
      const required = (schema.required ?? []).includes(name);
      if (name in valid) {
        const { [name]: _left, ...without } = valid;
        const res = await client.send('POST', path, without);
        t.is(res.status, required ? 400 : 201, `${path} without ${name}: ${required ? 'refused' : 'accepted'} as documented`);
        // Without items, a ticket is read the old way (one item's fields at the top level): those are named.
        const named = path === '/api/tickets' && name === 'items' ? 'cable_type' : name;
        if (required) t.truthy(res.json.fields?.[named], `${path} without ${name} names ${named}`);
      }
      if (prop.type === 'string' && prop.maxLength) {
        const base = { ...valid, ...context?.[name] };
        const at = await client.send('POST', path, { ...base, [name]: 'x'.repeat(prop.maxLength) });
        const over = await client.send('POST', path, { ...base, [name]: 'x'.repeat(prop.maxLength + 1) });
        if (name !== 'selected_part') t.is(at.status, 201, `${path} ${name} at its maxLength ${prop.maxLength}`);
        t.is(over.status, 400, `${path} ${name} past its maxLength`);
        t.truthy(over.json.fields?.[name], `${path} names ${name} past its maxLength`);
      }
      if (prop.type === 'integer') {
        t.is(
          (await client.send('POST', path, { ...valid, [name]: prop.maximum + 1 })).status,
          400,
          `${path} ${name} past its maximum`,
        );
        t.is(
          (await client.send('POST', path, { ...valid, [name]: prop.minimum - 1 })).status,
          400,
          `${path} ${name} below its minimum`,
        );
      }
    }
    const items = schema.properties.items;
    if (items) {
      const row = (valid as { items: Record<string, unknown>[] }).items[0];
      const tooMany = Array.from({ length: items.maxItems + 1 }, () => row);
      const res = await client.send('POST', path, { ...valid, items: tooMany });
      t.is(res.status, 400, `${path}: more than ${items.maxItems} items`);
      t.is(
        (await client.send('POST', path, { ...valid, items: tooMany.slice(1) })).status,
        201,
        `${path}: ${items.maxItems} items`,
      );
    }
  }
});

test('/api/openapi.json is served from memory with an ETag, compressed, and 304 while unchanged', async (t) => {
  const first = await rawRequest(app.url, '/api/openapi.json', { headers: { 'accept-encoding': 'br' } });
  t.is(first.status, 200);
  t.is(first.headers['content-encoding'], 'br');
  const etag = String(first.headers.etag);
  t.regex(etag, /^"[\w-]{27}"$/);
  t.is(first.headers['cache-control'], 'no-cache');
  const again = await rawRequest(app.url, '/api/openapi.json', { headers: { 'if-none-match': etag } });
  t.is(again.status, 304);
  t.is(again.body.length, 0);
  const plain = await rawRequest(app.url, '/api/openapi.json');
  t.is(plain.headers.etag, etag, 'one document, one tag');
  t.deepEqual(JSON.parse(plain.body.toString()), doc);
  t.is((await rawRequest(app.url, '/api/openapi.json', { headers: { 'if-none-match': '"other"' } })).status, 200);
  t.deepEqual((await contractFor(app.url))?.document.info, doc.info, 'the suite checks against this very document');
});

test('/api/docs shows every operation with a curl example, grouped by feature, and the webhook events', async (t) => {
  const page = await new Client(app.url).get('/api/docs');
  t.is(page.status, 200);
  t.regex(page.headers.get('content-type') ?? '', /text\/html/);
  const ops = documented();
  t.is(
    page.$(
      'details.op[id^="get"], details.op[id^="post"], details.op[id^="put"], details.op[id^="patch"], details.op[id^="delete"]',
    ).length,
    ops.length,
  );
  let examplesShown = 0;
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, J>>)) {
    for (const op of Object.values(item)) {
      const block = page.$(`#${op.operationId}`);
      t.is(block.length, 1, op.operationId);
      t.is(block.find('summary code').text(), path);
      t.regex(block.find('pre code').first().text(), /^curl /);
      // The answer's example is shown whole: its JSON (short parts on one line) is the document's.
      const [status, media] =
        Object.entries((op.responses ?? {}) as Record<string, J>)
          .filter(([code]) => code.startsWith('2'))
          .map(([code, r]) => [code, Object.values(r.content ?? {})[0] as J] as const)
          .find(([, m]) => m?.example !== undefined) ?? [];
      if (status && media && typeof media.example !== 'string') {
        const shown = block.find('pre code').eq(1).text();
        t.deepEqual(JSON.parse(shown.slice(shown.indexOf('\n\n') + 2)), media.example, op.operationId);
        examplesShown++;
      }
    }
  }
  t.true(examplesShown > ops.length / 2, `${examplesShown} of ${ops.length} operations show their answer's example`);
  t.deepEqual(
    page
      .$('section.ref h2')
      .map((_, h) => page.$(h).text())
      .get(),
    [...(doc.tags as { name: string }[]).map((tag) => tag.name), ...(doc.webhooks ? ['Webhook events'] : [])],
  );
  const create = page.$('#postApiTickets');
  t.regex(create.text(), /Authorization: Bearer \$TOKEN/);
  t.regex(create.text(), /Idempotency-Key/);
  t.regex(create.find('pre code').eq(1).text(), /HTTP\/1\.1 201/);
  t.is(page.$('script').length, 0, 'a page to read: no script at all');
});
