import test from 'ava';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import { buildCast, buildRequest } from './support/factories.ts';

/**
 * /tickets.csv: every request of the dashboard's current filter (not one page), one line per item
 * with what was asked and what was approved, cells a spreadsheet would run kept as text.
 */

let app: TestApp;
let techPage: Client;
let bossPage: Client;
let ids: Record<string, number>;

test.before(async () => {
  app = await startApp();
  const cast = await buildCast(app, { boss: { role: 'admin', browser: true }, tech: { browser: true }, approver: {} });
  techPage = cast.tech.browser;
  bossPage = cast.boss.browser;
  const creator = cast.tech.user;
  const assignee = cast.approver.user;
  const mine = await buildRequest(app, {
    creator,
    assignee,
    location: '=cmd|"/c calc"!A1',
    items: [
      { cable_type: 'Cat6', cable_length: '100ft', quantity: 4 },
      { cable_type: '+Fiber, OM4', cable_length: '3m', quantity: 2 },
    ],
    status: 'approved',
  });
  const theirs = await buildRequest(app, { creator: cast.boss.user, assignee, location: 'Dock 2', status: 'rejected' });
  const gone = await buildRequest(app, { creator, assignee, location: 'Old room', status: 'deleted' });
  ids = { mine: mine.id, theirs: theirs.id, gone: gone.id };
});
test.after.always(async () => {
  await app?.close();
});

const lines = (text: string) => text.split('\r\n').filter(Boolean);

test('the whole filter, newest first, one line per item, approved quantities', async (t) => {
  const res = await bossPage.get('/tickets.csv');
  t.is(res.status, 200);
  t.regex(String(res.headers.get('content-type')), /^text\/csv/);
  t.regex(String(res.headers.get('content-disposition')), /attachment; filename="requests-\d{4}-\d{2}-\d{2}\.csv"/);
  const rows = lines(res.text);
  t.is(
    rows[0],
    'id,created_at_utc,updated_at_utc,status,priority,requester,assignee,location,item,cable_type,cable_length,cable_gauge,quantity,approved_quantity,notes',
  );
  t.is(rows.length, 1 + 1 + 2, 'the rejected request (one item) and the approved one (two); not the deleted one');
  t.true(rows[1]?.startsWith(`${ids.theirs},`));
  const cells = rows[2]?.split(',') ?? [];
  t.is(cells[0], String(ids.mine));
  t.is(cells[3], 'approved');
  t.is(cells[5], 'tech');
  // Both items: the asked quantity and the approved one (approved as asked).
  t.true(rows[2]?.endsWith(',1,Cat6,100ft,,4,4,'), rows[2]);
  t.true(rows[3]?.includes(`,2,"'+Fiber, OM4",3m,,2,2,`), rows[3]);
  // A location a spreadsheet would run as a formula is text.
  t.true(rows[2]?.includes(`"'=cmd|""/c calc""!A1"`), rows[2]);
});

test('the dashboard filters apply: mine, status, search, deleted too', async (t) => {
  const idsOf = async (client: Client, query: string) => [
    ...new Set(
      lines((await client.get(`/tickets.csv${query}`)).text)
        .slice(1)
        .map((l) => Number(l.split(',')[0])),
    ),
  ];
  t.deepEqual(await idsOf(techPage, '?filter=mine'), [ids.mine]);
  t.deepEqual(await idsOf(bossPage, '?status=rejected'), [ids.theirs]);
  t.deepEqual(await idsOf(bossPage, '?q=dock'), [ids.theirs]);
  t.deepEqual(await idsOf(bossPage, '?include_deleted=true'), [ids.gone, ids.theirs, ids.mine]);
  t.is((await bossPage.get('/tickets.csv?status=nope')).status, 400);
});

test('signed out: sent to sign in; the dashboard links the CSV of its filter', async (t) => {
  const { Client: Fresh } = await import('./support/client.ts');
  const anonymous = new Fresh(app.url);
  t.is((await anonymous.get('/tickets.csv')).status, 303);
  const page = await techPage.get('/?filter=mine&status=approved');
  t.is(page.$('a[download][href^="/tickets.csv"]').attr('href'), '/tickets.csv?filter=mine&status=approved');
});
