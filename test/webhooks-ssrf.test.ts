import test from 'ava';
import { notPublic, WebhookTarget } from '../src/features/webhooks/target.ts';
import { startApp, type TestApp } from './support/app.ts';
import { buildCast, buildRequest } from './support/factories.ts';
import { Receiver } from './support/receiver.ts';
import { buildWebhook, deliveriesOf, webhookWorker } from './support/webhooks.ts';

/**
 * Webhook targets that only the server could reach are refused (issue #23): with
 * WEBHOOK_ALLOW_PRIVATE unset, loopback, private and link-local addresses, typed or resolved by DNS,
 * are never connected to; the address checked is the address connected to (a second DNS answer
 * cannot swap in another); redirects are never followed. Serial: one worker claims every delivery.
 */

let app: TestApp;
let admin: Awaited<ReturnType<typeof buildCast>>['boss'];

test.before(async () => {
  app = await startApp({ WEBHOOK_TIMEOUT_MS: '1000' });
  ({ boss: admin } = await buildCast(app, { boss: { role: 'admin' } }));
});
test.after.always(async () => {
  await app?.close();
});

test('addresses are judged after unwrapping: only public unicast is called', (t) => {
  const refused = [
    '127.0.0.1',
    '127.8.9.10',
    '::1',
    '10.0.0.5',
    '10.255.255.255',
    '172.16.0.1',
    '192.168.1.20',
    '169.254.169.254',
    'fe80::1',
    'fc00::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '0.0.0.0',
    '::',
    '100.64.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '192.0.2.1',
  ];
  for (const address of refused) t.truthy(notPublic(address), address);
  for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700::1111']) t.is(notPublic(address), undefined, address);
  t.regex(notPublic('169.254.169.254') ?? '', /link-local/);
  t.regex(notPublic('::ffff:10.0.0.1') ?? '', /private/);
});

test('a subscription naming a private, loopback or link-local host is refused when typed', async (t) => {
  for (const url of [
    'http://127.0.0.1:8080/hooks',
    'http://[::1]/hooks',
    'http://10.0.0.5/hooks',
    'http://169.254.169.254/latest/meta-data/',
    'http://localhost:3000/hooks',
    'http://hooks.localhost/',
    'http://localhost./',
    'http://[::ffff:192.168.0.1]/',
    'http://2130706433/',
    'http://0x7f.0.0.1/',
  ]) {
    const res = await admin.api.send('POST', '/api/webhooks', { url, events: ['ticket.created'] });
    t.is(res.status, 400, url);
    t.regex(res.json.fields?.url ?? '', /refused/, url);
  }
  for (const url of ['ftp://example.com/x', 'not a url', `https://example.com/${'x'.repeat(2048)}`]) {
    const res = await admin.api.send('POST', '/api/webhooks', { url, events: ['ticket.created'] });
    t.is(res.status, 400, url);
    t.truthy(res.json.fields?.url, url);
  }
  t.is(
    await app
      .db('webhook_subscriptions')
      .count({ n: '*' })
      .first()
      .then((r) => Number(r?.n)),
    0,
  );
});

test.serial('a name that resolves to loopback (or to a private address among public ones) is never connected to', async (t) => {
  const receiver = await new Receiver().start();
  t.teardown(() => receiver.close());
  for (const [name, answers] of [
    ['loopback.example.test', ['127.0.0.1']],
    ['mixed.example.test', ['93.184.216.34', '10.1.2.3']],
    ['metadata.example.test', ['169.254.169.254']],
    ['six.example.test', ['::1']],
  ] as const) {
    const hook = await buildWebhook(app, {
      url: `http://${name}:${receiver.port}/hooks`,
      events: ['ticket.created'],
      adminId: admin.user.id,
    });
    await buildRequest(app);
    const resolved: string[] = [];
    const worker = webhookWorker(app, {
      target: {
        resolve: async (host) => {
          resolved.push(host);
          return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
        },
      },
    });
    t.like(await worker.runOnce(), { gaveUp: 1 }, name);
    const [row] = await deliveriesOf(app, hook.id);
    t.like(row, { status: 'failed', attempts: 1 }, name);
    t.like(row?.attempts_log[0], { outcome: 'refused', status_code: null }, name);
    t.regex(row?.last_error, new RegExp(`Not sent: ${name.replace(/\./g, '\\.')} resolves to`), name);
    t.deepEqual(resolved, [name]);
    await app.db('webhook_subscriptions').where({ id: hook.id }).delete();
  }
  t.is(receiver.received.length, 0, 'nothing reached the loopback receiver');
});

test.serial('localhost through the system resolver is refused at delivery, whenever the subscription was made', async (t) => {
  const receiver = await new Receiver().start();
  t.teardown(() => receiver.close());
  // As if made while WEBHOOK_ALLOW_PRIVATE=true, which was then turned off: the typed check never saw it.
  const hook = await buildWebhook(app, { url: 'https://hooks.example.com/', events: ['ticket.created'], adminId: admin.user.id });
  await app
    .db('webhook_subscriptions')
    .where({ id: hook.id })
    .update({ url: `http://localhost:${receiver.port}/hooks` });
  t.teardown(() => app.db('webhook_subscriptions').where({ id: hook.id }).delete());
  await buildRequest(app);
  await webhookWorker(app).runOnce();
  const [row] = await deliveriesOf(app, hook.id);
  t.like(row?.attempts_log[0], { outcome: 'refused' });
  t.regex(row?.last_error, /localhost resolves to (127\.0\.0\.1|::1): .* loopback/);
  t.is(receiver.received.length, 0);
});

test.serial('the address checked is the address connected to: a second DNS answer cannot swap it (no rebinding)', async (t) => {
  // On loopback, 127.0.0.2 plays the public server and 127.0.0.1 the internal one the attacker wants.
  const outside = await new Receiver().start('127.0.0.2');
  const inside = await new Receiver().start('127.0.0.1', outside.port);
  t.teardown(() => Promise.all([outside.close(), inside.close()]));
  let lookups = 0;
  const target = new WebhookTarget({
    allowPrivate: false,
    timeoutMs: 1000,
    refusal: (address) => (address === '127.0.0.2' ? undefined : `${address} is internal`),
    // The first answer is harmless; every later one points inside.
    resolve: async () => [{ address: lookups++ === 0 ? '127.0.0.2' : '127.0.0.1', family: 4 }],
  });
  t.teardown(() => target.close());
  const result = await target.post(`http://rebind.example.test:${outside.port}/hooks`, {}, '{}');
  t.like(result, { kind: 'answered', status: 200 });
  t.is(lookups, 1, 'one lookup: the check and the connection share it');
  t.is(outside.received.length, 1);
  t.is(inside.received.length, 0);
  const second = await target.post(`http://rebind.example.test:${outside.port}/hooks`, {}, '{}');
  t.like(second, { kind: 'answered', status: 200 }, 'a kept-alive connection stays on the address checked');
  t.is(inside.received.length, 0);
});

test.serial('a redirect to loopback is not followed', async (t) => {
  const inside = await new Receiver().start('127.0.0.1');
  const outside = await new Receiver().start('127.0.0.2');
  t.teardown(() => Promise.all([outside.close(), inside.close()]));
  outside.answer({ status: 307, headers: { location: inside.url } });
  const target = new WebhookTarget({
    allowPrivate: false,
    timeoutMs: 1000,
    refusal: (a) => (a === '127.0.0.2' ? undefined : 'internal'),
  });
  t.teardown(() => target.close());
  const result = await target.post(outside.url, {}, '{}');
  t.like(result, { kind: 'answered', status: 307, location: inside.url });
  t.is(inside.received.length, 0);
});
