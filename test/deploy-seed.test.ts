import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { DEMO_USERS, SeedRefused, seedDemoData } from '../seeds/demo.ts';
import { loadConfig } from '../src/config.ts';
import { createDb, type Db, migrateLatest } from '../src/db/index.ts';
import { skuKey } from '../src/features/inventory/sku.ts';
import { createLogger } from '../src/logger.ts';
import { projectRoot } from '../src/paths.ts';
import { freshDatabase, startApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { createUser } from './support/factories.ts';

/** `npm run seed`: demo accounts, stock, a request in every status, optics requests; all through the services; idempotent. */

const logger = createLogger('silent');
const config = loadConfig({ NODE_ENV: 'test', APP_URL: 'http://demo.test', DEMO_PASSWORD: '' });

async function tableCounts(db: Db): Promise<Record<string, number>> {
  const tables = [
    'users',
    'tickets',
    'ticket_items',
    'ticket_events',
    'notifications',
    'cable_receipts',
    'inventory_movements',
    'inventory_stock',
    'optics_requests',
  ];
  const out: Record<string, number> = {};
  for (const table of tables) out[table] = Number((await db(table).count({ n: '*' }).first())?.n ?? 0);
  return out;
}

test('a fresh database gets three accounts, cable in stock, a request in every status and optics requests', async (t) => {
  const fresh = await freshDatabase();
  t.teardown(() => fresh.drop());
  const { db } = fresh;
  await migrateLatest(db);
  const result = await seedDemoData(db, config, logger);
  t.is(result.status, 'created');
  if (result.status !== 'created') return;
  t.deepEqual(
    result.credentials.map((c) => [c.username, c.role, c.password]),
    DEMO_USERS.map((u) => [u.username, u.role, u.demoPassword]),
  );
  t.regex(result.reviewUrl, /^http:\/\/demo\.test\/tickets\/\d+\/review\/[\w-]{40,}$/);

  const users = await db('users').select('username', 'role').orderBy('id');
  t.deepEqual(users, [
    { username: 'demo.admin', role: 'admin' },
    { username: 'demo.tech', role: 'user' },
    { username: 'demo.stock', role: 'admin' },
  ]);

  const byStatus = Object.fromEntries(
    ((await db('tickets').select('status').count({ n: '*' }).groupBy('status')) as { status: string; n: number | string }[]).map(
      (r) => [r.status, Number(r.n)],
    ),
  );
  t.deepEqual(byStatus, { pending_approval: 2, approved: 1, rejected: 1, in_progress: 1, fulfilled: 1, closed: 1, deleted: 1 });
  // The dashboard counters were kept by the services, so they agree with the rows.
  const counters = Object.fromEntries(
    ((await db('ticket_counts').select('status', 'n')) as { status: string; n: number | string }[]).map((r) => [
      r.status,
      Number(r.n),
    ]),
  );
  for (const [status, n] of Object.entries(byStatus)) t.is(counters[status], n, status);
  // Audit trail: one `created` event per ticket, a decision through the review link, the rejection reason.
  t.is(Number((await db('ticket_events').where({ event_type: 'created' }).count({ n: '*' }).first())?.n), 8);
  t.is(Number((await db('ticket_events').where({ via: 'review link' }).count({ n: '*' }).first())?.n), 1);
  t.truthy(await db('tickets').where({ status: 'rejected' }).whereNotNull('rejection_reason').first());

  // Stock: the two counted receipts and the bulk one in, the fulfilled and closed requests out, the
  // adjustment; ledger and stock agree.
  t.is(Number((await db('cable_receipts').count({ n: '*' }).first())?.n), 3);
  // Bulk reels beside the counted patch cords: five reels, one in a van, one counted low, one scrapped.
  const reels = (await db('reels as r')
    .join('locations as l', 'l.id', 'r.location_id')
    .orderBy('r.id')
    .select('r.code', 'r.sku_key', 'r.remaining_mm', 'r.status', 'l.name')) as {
    code: string;
    sku_key: string;
    remaining_mm: number | string;
    status: string;
    name: string;
  }[];
  t.deepEqual(
    reels.map((r) => [r.code, r.sku_key, Number(r.remaining_mm), r.status, r.name]),
    [
      ['R-000001', 'cat6|', 304_800, 'active', 'Van 1 (demo.tech)'],
      ['R-000002', 'cat6|', 304_800, 'active', 'Main warehouse'],
      ['R-000003', 'cat6|', 12_802, 'active', 'Main warehouse'],
      ['R-000004', 'om4|', 305_000, 'active', 'Main warehouse'],
      ['R-000005', 'om4|', 0, 'scrapped', 'Main warehouse'],
    ],
  );
  const stock = (await db('inventory_stock').select('sku_key', 'on_hand', 'reorder_threshold')) as {
    sku_key: string;
    on_hand: number;
    reorder_threshold: number | null;
  }[];
  const ledger = (await db('inventory_movements').select('sku_key').sum({ total: 'quantity_delta' }).groupBy('sku_key')) as {
    sku_key: string;
    total: number | string;
  }[];
  for (const row of ledger) t.is(Number(stock.find((s) => s.sku_key === row.sku_key)?.on_hand), Number(row.total), row.sku_key);
  const cat6 = stock.find((s) => s.sku_key === skuKey('Cat6', '100 ft'));
  t.is(Number(cat6?.on_hand), 17);
  t.is(Number(cat6?.reorder_threshold), 18, 'Cat6 100 ft is low on stock for the demo');
  t.is(Number((await db('inventory_movements').where({ movement_type: 'consumption' }).count({ n: '*' }).first())?.n), 3);

  const optics = (await db('optics_requests').select('status').orderBy('id')).map((r: { status: string }) => r.status);
  t.deepEqual(optics, ['pending', 'approved', 'denied', 'archived']);
  // Every notification the real journeys write is in the outbox.
  const types = (await db('notifications').distinct('notification_type')).map(
    (r: { notification_type: string }) => r.notification_type,
  );
  for (const type of ['ticket_created', 'ticket_approved', 'ticket_rejected', 'ticket_fulfilled', 'low_stock']) {
    t.true(types.includes(type), type);
  }
});

test('running it again adds nothing', async (t) => {
  const fresh = await freshDatabase();
  t.teardown(() => fresh.drop());
  await migrateLatest(fresh.db);
  await seedDemoData(fresh.db, config, logger);
  const before = await tableCounts(fresh.db);
  const again = await seedDemoData(fresh.db, config, logger);
  t.is(again.status, 'present');
  t.deepEqual(await tableCounts(fresh.db), before);
});

test('a database with real accounts is refused unless forced; production needs DEMO_PASSWORD', async (t) => {
  const fresh = await freshDatabase();
  t.teardown(() => fresh.drop());
  await migrateLatest(fresh.db);
  await createUser(fresh.db, { username: 'real_person', role: 'admin' });
  const refused = await t.throwsAsync(seedDemoData(fresh.db, config, logger), { instanceOf: SeedRefused });
  t.regex(refused?.message ?? '', /already has 1 account/);
  t.is(Number((await fresh.db('tickets').count({ n: '*' }).first())?.n), 0, 'nothing was written');

  const production = { ...config, isProduction: true, demoPassword: undefined };
  await t.throwsAsync(seedDemoData(fresh.db, production, logger, { force: true }), {
    instanceOf: SeedRefused,
    message: /DEMO_PASSWORD/,
  });
  const forced = await seedDemoData(fresh.db, { ...production, demoPassword: 'chosen-demo-password' }, logger, { force: true });
  t.is(forced.status, 'created');
  t.true(forced.credentials.every((c) => c.password === 'chosen-demo-password'));
  t.is((await fresh.db('users').where({ username: 'demo.stock' }).first())?.role, 'admin');
});

test('the demo accounts sign in with the printed passwords and see the seeded requests', async (t) => {
  const app = await startApp({ WORKER_IN_PROCESS: 'false' });
  t.teardown(() => app.close());
  const result = await seedDemoData(app.db, app.config, logger);
  t.is(result.status, 'created');
  for (const { username, password } of result.credentials) {
    const login = await new Client(app.url).send('POST', '/api/login', { username, password });
    t.is(login.status, 200, username);
  }
  const tech = result.credentials.find((c) => c.username === 'demo.tech');
  const token = (await new Client(app.url).send('POST', '/api/login', { username: 'demo.tech', password: tech?.password })).json
    .access_token as string;
  const stats = await new Client(app.url).withToken(token).get('/api/dashboard/stats', { accept: 'application/json' });
  t.is(stats.status, 200);
  t.is(stats.json.total_tickets, 7);
  t.is(stats.json.archived, 1);
});

// The CLI runs on its own SQLite file in both passes (the seed's database code is covered above).
test('npm run seed prints the accounts, then says it is already loaded', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-seed-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const databaseUrl = `sqlite:${path.join(dir, 'seed.sqlite')}`;
  const run = () =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        NODE_ENV: 'development',
        DATABASE_URL: databaseUrl,
        APP_URL: 'http://demo.test',
      };
      delete env.TEST_DATABASE_URL;
      delete env.DEMO_PASSWORD;
      execFile(
        process.execPath,
        ['--import', 'tsx', path.join(projectRoot, 'src/cli/seed.ts')],
        { cwd: projectRoot, env, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? -1) : 0, stdout, stderr }),
      );
    });
  const first = await run();
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, /Demo data loaded: 8 cable requests/);
  t.regex(first.stdout, /DEMO-ONLY/);
  for (const u of DEMO_USERS) t.regex(first.stdout, new RegExp(`${u.username.replace('.', '\\.')}\\s+${u.demoPassword}`));
  t.regex(first.stdout, /http:\/\/demo\.test\/tickets\/\d+\/review\//);
  const second = await run();
  t.is(second.code, 0, second.stderr);
  t.regex(second.stdout, /already loaded; nothing was added/);
  const db = createDb({ client: 'sqlite', filename: path.join(dir, 'seed.sqlite') });
  t.teardown(() => db.destroy());
  t.is(Number((await db('users').count({ n: '*' }).first())?.n), 3);
});
