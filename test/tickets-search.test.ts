import test from 'ava';
import { isPostgres } from '../src/db/index.ts';
import { type ListFilter, planSearch } from '../src/features/tickets/search.ts';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import { createUser, tokenClient } from './support/factories.ts';
import { insertTicketRows, ticketRow } from './support/tickets.ts';

/**
 * How a search is planned on PostgreSQL (a rare word looked up alone, or a person's tickets read
 * without the trigram index), and that every plan finds exactly the tickets holding the whole search.
 * The planner's statistics decide the plan, so the table gets enough rows and an ANALYZE first.
 */

const ROOMS = 300;
let app: TestApp;
let ben: Client;
let benId: number;
/** Ticket id by room number (rooms 100..399, all on "Floor 3", created by ben, assigned to amy). */
const byRoom = new Map<number, number>();

test.before(async () => {
  app = await startApp();
  const amy = await createUser(app.db, { username: 'amy' });
  benId = (await createUser(app.db, { username: 'ben' })).id;
  ben = await tokenClient(app.url, 'ben');
  const rows = Array.from({ length: ROOMS }, (_, i) =>
    ticketRow({ createdBy: benId, assignedTo: amy.id, location: `Floor 3 room ${100 + i}` }),
  );
  for (const r of await insertTicketRows(app.db, rows)) byRoom.set(Number(r.location.split(' ').pop()), r.id);
  // The counters the app keeps in the same transaction as its own inserts.
  await app.db('ticket_counts').where({ status: 'pending_approval' }).increment('n', ROOMS);
  if (isPostgres(app.db)) await app.db.raw('analyze tickets');
});

test.after.always(() => app?.close());

const plan = (q: string, filter: ListFilter['filter'] = 'all') =>
  planSearch(app.db, { viewerId: benId, filter, includeDeleted: false, limit: 20, q });

const ids = async (query: string): Promise<number[]> => {
  const res = await ben.send('GET', `/api/tickets?limit=200&${query}`);
  return res.json.map((x: { id: number }) => x.id);
};
/** The tickets of these rooms, newest first (as the list orders them). */
const rooms = (...numbers: number[]) => numbers.map((n) => byRoom.get(n) as number).sort((a, b) => b - a);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('on PostgreSQL a rare word is looked up alone; SQLite plans nothing', async (t) => {
  const planned = await plan('floor 3 room 142');
  if (isPostgres(app.db)) t.is(planned.indexWord, '142', '"floor" and "room" are in every ticket');
  else t.is(planned.indexWord, undefined);
  t.is(planned.scanPerson, undefined);
  t.deepEqual((await plan('room')).indexWord, undefined, 'one word is looked up whole');
});

test('on PostgreSQL common words within a person are read from that person tickets', async (t) => {
  const mine = await plan('floor 3', 'mine');
  t.is(mine.scanPerson, isPostgres(app.db) ? true : undefined);
  t.is((await plan('room', 'assigned')).scanPerson, isPostgres(app.db) ? true : undefined, 'one common word too');
  t.is((await plan('floor 3')).scanPerson, undefined, 'not without a person');
  t.is((await plan('room 142', 'mine')).scanPerson, undefined, 'a rare word is looked up instead');
});

test('wildcards and case mean the same in every plan', async (t) => {
  // The plans these searches take on PostgreSQL (SQLite has only the plain LIKE).
  if (isPostgres(app.db)) {
    t.is((await plan('FLOOR 3 ROOM 142')).indexWord, '142');
    t.is((await plan('floor 3 room 142%')).indexWord, '142');
    t.is((await plan('room 14_', 'mine')).scanPerson, true);
    t.is((await plan('room 1\\', 'mine')).scanPerson, true);
  }
  t.deepEqual(await ids('q=FLOOR%203%20ROOM%20142'), rooms(142), 'upper case');
  t.deepEqual(await ids('q=floor%203%20room%20142%25'), [], 'a % is a character');
  t.deepEqual(await ids('q=floor%203%20room%2014_'), [], 'an _ is a character');
  t.deepEqual(await ids('filter=mine&q=room%2014_'), [], 'an _ is a character within a person too');
  t.deepEqual(await ids('filter=mine&q=room%201%5C'), [], 'and a backslash');
  t.deepEqual(await ids('filter=mine&q=ROOM%20399'), rooms(399));
});

test('every plan finds exactly the tickets holding the whole search, newest first', async (t) => {
  t.deepEqual(await ids('q=floor%203%20room%20142'), rooms(142), 'rare word + common words');
  t.deepEqual(await ids('q=room%2014'), rooms(...range(140, 149)), 'a word may end inside a longer one');
  t.deepEqual(await ids('q=3%20room%20399'), rooms(399));
  t.deepEqual(await ids('q=room%20142%20floor'), [], 'the words in another order are another search');
  t.deepEqual(await ids('filter=mine&q=floor%203%20room%20142'), rooms(142));
  t.deepEqual(await ids('filter=mine&q=room%2014'), rooms(...range(140, 149)));
  t.deepEqual(await ids('filter=mine&q=FLOOR%203'), rooms(...range(200, 399)), 'common words within a person: the newest 200');
  t.deepEqual(await ids('filter=mine&q=floor%204'), [], 'common words, no match');
  t.deepEqual(await ids('filter=assigned&q=floor%203'), [], 'ben is nobody assignee here');
  const paged = await ben.send('GET', '/api/tickets?limit=5&filter=mine&q=room%201');
  t.deepEqual(
    paged.json.map((x: { id: number }) => x.id),
    rooms(...range(195, 199)),
  );
  const next = /<([^>]+)>; rel="next"/.exec(paged.headers.get('link') ?? '')?.[1];
  t.truthy(next, 'a next page');
  const second = await ben.send('GET', next as string);
  t.deepEqual(
    second.json.map((x: { id: number }) => x.id),
    rooms(...range(190, 194)),
    'the cursor follows the same plan',
  );
});
