import test from 'ava';
import { nowIso } from '../src/db/index.ts';
import { createMetrics, SETTLED_REFRESH_MS } from '../src/features/metrics/registry.ts';
import { startApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { createUser, tokenClient } from './support/factories.ts';

/** GET /metrics: Prometheus text, request timings by route pattern, the outbox and the pool, METRICS_TOKEN. */

const TOKEN = 'metrics-token-0123456789abcdef';

/** The value of one sample line, e.g. `cable_notifications{status="failed"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('open without METRICS_TOKEN: route patterns (never raw paths), statuses, process and pool metrics', async (t) => {
  const app = await startApp({ WORKER_IN_PROCESS: 'false' });
  t.teardown(() => app.close());
  await createUser(app.db, { username: 'metrics_user' });
  const client = await tokenClient(app.url, 'metrics_user');
  await client.get('/api/tickets/987654');
  await client.get('/api/tickets/987655');
  await new Client(app.url).get('/no/such/page/12345');
  await new Client(app.url).get('/api/health');

  const res = await new Client(app.url).get('/metrics');
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  t.is(res.headers.get('cache-control'), 'no-store');
  t.is(res.headers.getSetCookie().length, 0, 'a scrape starts no session');
  const text = res.text;
  t.regex(text, /http_request_duration_seconds_count\{method="GET",route="\/api\/tickets\/:id",status="404"\} 2/);
  t.regex(text, /http_request_duration_seconds_bucket\{le="0\.1",method="GET",route="\/api\/health",status="200"\} 1/);
  t.regex(text, /route="\(none\)",status="404"/);
  t.notRegex(text, /987654|no\/such\/page/, 'raw paths never become labels');
  t.regex(text, /^process_cpu_user_seconds_total /m);
  t.regex(text, /^nodejs_eventloop_lag_seconds /m);
  t.regex(text, /^cable_db_pool_connections\{state="used"\} \d+/m);
  t.regex(text, /^cable_db_pool_connections\{state="pending_acquire"\} 0/m);
  t.true((sample(text, 'cable_db_pool_max') ?? 0) >= 1);
  t.is(sample(text, 'cable_database_up'), 1);
});

test('the outbox by status, its depth and the age of the oldest due row come from the notifications table', async (t) => {
  const app = await startApp({ WORKER_IN_PROCESS: 'false' });
  t.teardown(() => app.close());
  const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
  const row = (status: string, nextAttemptAt = nowIso()) => ({
    channel: 'email',
    notification_type: 'test',
    status,
    attempts: 0,
    next_attempt_at: nextAttemptAt,
    body_text: 'hello',
    created_at: nowIso(),
    updated_at: nowIso(),
  });
  await app
    .db('notifications')
    .insert([
      row('queued', hourAgo),
      row('queued', new Date(Date.now() + 3_600_000).toISOString()),
      row('sending'),
      row('sent'),
      row('sent'),
      row('sent'),
      row('failed'),
    ]);
  const text = (await new Client(app.url).get('/metrics')).text;
  t.is(sample(text, 'cable_notifications{status="queued"}'), 2);
  t.is(sample(text, 'cable_notifications{status="sending"}'), 1);
  t.is(sample(text, 'cable_notifications{status="sent"}'), 3);
  t.is(sample(text, 'cable_notifications{status="failed"}'), 1);
  t.is(sample(text, 'cable_notifications{status="skipped"}'), 0);
  t.is(sample(text, 'cable_outbox_depth'), 3);
  const age = sample(text, 'cable_outbox_oldest_due_seconds') ?? 0;
  t.true(age >= 3590 && age < 3700, `oldest due row waited ${age} s`);

  // Open statuses are read at every scrape; sent and skipped (which pile up for good) every 5 minutes.
  await app.db('notifications').insert([row('queued'), row('sent'), row('skipped')]);
  const next = (await new Client(app.url).get('/metrics')).text;
  t.is(sample(next, 'cable_notifications{status="queued"}'), 3);
  t.is(sample(next, 'cable_outbox_depth'), 4);
  t.is(sample(next, 'cable_notifications{status="sent"}'), 3, 'as read at the first scrape');
  t.is(sample(next, 'cable_notifications{status="skipped"}'), 0);

  let clock = 1_000_000;
  const metrics = createMetrics(app.db, { now: () => clock });
  const scrape = async () => {
    const out = await metrics.scrape();
    return [sample(out, 'cable_notifications{status="sent"}'), sample(out, 'cable_notifications{status="skipped"}')];
  };
  t.deepEqual(await scrape(), [4, 1]);
  await app.db('notifications').insert([row('sent'), row('skipped')]);
  clock += SETTLED_REFRESH_MS - 1;
  t.deepEqual(await scrape(), [4, 1], 'not yet read again');
  clock += 1;
  t.deepEqual(await scrape(), [5, 2], 'read again after 5 minutes');

  // Scrapes at the same moment with stale counts share one count.
  clock += SETTLED_REFRESH_MS;
  const counts: string[] = [];
  const listener = (q: { sql: string; bindings?: unknown[] }) => {
    if (/count\(/.test(q.sql) && /notifications/.test(q.sql)) counts.push(String(q.bindings?.[0]));
  };
  app.db.on('query', listener);
  try {
    await Promise.all([scrape(), scrape(), scrape()]);
  } finally {
    app.db.removeListener('query', listener);
  }
  t.deepEqual(counts.sort(), ['queued', 'queued', 'queued', 'sent'], 'three counts of the open statuses, one of the settled');
});

test('with METRICS_TOKEN: 401 without it or with a wrong one, 200 with it (not taken for an API token)', async (t) => {
  const app = await startApp({ WORKER_IN_PROCESS: 'false', METRICS_TOKEN: TOKEN });
  t.teardown(() => app.close());
  const anonymous = await new Client(app.url).get('/metrics', { accept: 'text/html' });
  t.is(anonymous.status, 401, 'a 401, not a redirect to the sign-in page');
  t.is(anonymous.headers.get('www-authenticate'), 'Bearer realm="metrics"');
  t.deepEqual(anonymous.json, { error: 'Metrics need the METRICS_TOKEN bearer token.' });
  t.notRegex(anonymous.text, /http_request/);
  t.is((await new Client(app.url).get('/metrics', { authorization: `Bearer ${TOKEN}x` })).status, 401);
  t.is((await new Client(app.url).get('/metrics', { authorization: TOKEN })).status, 401);
  const scraped = await new Client(app.url).get('/metrics', { authorization: `Bearer ${TOKEN}` });
  t.is(scraped.status, 200);
  t.regex(scraped.text, /^cable_outbox_depth 0$/m);
  // The app's own API still refuses that token: it is no account's.
  t.is((await new Client(app.url).get('/api/tickets', { authorization: `Bearer ${TOKEN}` })).status, 401);
});

test('in production /metrics needs METRICS_TOKEN: closed (403) without one, open to the token with one', async (t) => {
  const closed = await startApp({ NODE_ENV: 'production', WORKER_IN_PROCESS: 'false' });
  t.teardown(() => closed.close());
  const refused = await new Client(closed.url).get('/metrics');
  t.is(refused.status, 403);
  t.deepEqual(refused.json, { error: 'Metrics are closed: set METRICS_TOKEN to scrape them in production.' });
  t.notRegex(refused.text, /http_request/);
  const open = await startApp({ NODE_ENV: 'production', WORKER_IN_PROCESS: 'false', METRICS_TOKEN: TOKEN });
  t.teardown(() => open.close());
  t.is((await new Client(open.url).get('/metrics')).status, 401);
  t.is((await new Client(open.url).get('/metrics', { authorization: `Bearer ${TOKEN}` })).status, 200);
});

test('a scrape still answers when the database is gone: cable_database_up 0', async (t) => {
  const app = await startApp({ WORKER_IN_PROCESS: 'false' });
  let closed = false;
  t.teardown(async () => {
    if (!closed) await app.close().catch(() => undefined);
  });
  await app.db.destroy();
  const res = await new Client(app.url).get('/metrics');
  t.is(res.status, 200);
  t.is(sample(res.text, 'cable_database_up'), 0);
  t.notRegex(res.text, /^cable_notifications\{/m, 'no stale outbox counts');
  closed = true;
  await app.close().catch(() => undefined);
});
