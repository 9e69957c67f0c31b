import test from 'ava';
import type { Knex } from 'knex';
import { isPostgres } from '../src/db/index.ts';
import {
  type ListFilter,
  listTickets,
  listTicketsQuery,
  planSearch,
  SEARCH_BUCKET_BITS,
  searchPlanning,
} from '../src/features/tickets/search.ts';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import { createUser, tokenClient } from './support/factories.ts';
import { insertTicketRows, ticketRow } from './support/tickets.ts';

/**
 * A search for a rare word on PostgreSQL reads the search index one id range ("bucket", 65,536 ids) at
 * a time, newest first, until the page is full (queries.ts, bucketedPageQuery). The tickets below sit
 * on both sides of bucket edges, with an empty bucket between, so every page size and cursor crosses
 * edges; each answer must be exactly the tickets holding the search, newest first, as the plain plan
 * (and SQLite, which has no buckets) finds them.
 */

const BUCKET = 2 ** SEARCH_BUCKET_BITS;
/** "kestrel" tickets with their own ids: bucket edges of buckets 0, 1, 2 and 4 (3 stays empty). */
const EDGE_IDS = [BUCKET - 1, BUCKET, BUCKET + 1, 2 * BUCKET - 1, 2 * BUCKET, 4 * BUCKET, 4 * BUCKET + 1, 4 * BUCKET + 9000];
const FILLERS = 2000;
/** Fillers that hold "kestrel" too (ids 1..FILLERS, inserted first). */
const KESTREL_FILLERS = new Set([7, 640, 1999]);
/** Fillers of their own: every three letters of "kestrel" but not the word; a word beyond ASCII. */
const OTHER_FILLERS = new Map([
  [320, 'Kest strel depot 320'],
  [321, 'Kästrel loft 321'],
]);
const DELETED = 2 * BUCKET;
const FULFILLED = new Set([BUCKET, 4 * BUCKET + 1]);

let app: TestApp;
let ben: Client;
let benId: number;
/** Every ticket: id, location, status (to compute what a search must find). */
const tickets: { id: number; location: string; status: string }[] = [];

/** The default: a word in fewer tickets than this is read in one lookup, without buckets. */
const BUCKETED_FROM_ROWS = searchPlanning.bucketedFromRows;

test.before(async () => {
  // This table's rare words are in a handful of tickets: buckets from the first ticket, to test them.
  searchPlanning.bucketedFromRows = 0;
  app = await startApp();
  const amy = await createUser(app.db, { username: 'amy' });
  benId = (await createUser(app.db, { username: 'ben' })).id;
  ben = await tokenClient(app.url, 'ben');
  const row = (location: string, status: string, id?: number) =>
    ticketRow({ createdBy: benId, assignedTo: amy.id, location, status, id });
  const fillers = Array.from({ length: FILLERS }, (_, i) =>
    row(
      OTHER_FILLERS.get(i + 1) ?? (KESTREL_FILLERS.has(i + 1) ? `Kestrel yard shed ${i + 1}` : `Depot ${i + 1} rack ${i % 40}`),
      'pending_approval',
    ),
  );
  tickets.push(...(await insertTicketRows(app.db, fillers)));
  const edges = EDGE_IDS.map((id, n) =>
    row(
      n % 2 ? `Kestrel panel ${id}` : `Kestrel roof ${id}`,
      id === DELETED ? 'deleted' : FULFILLED.has(id) ? 'fulfilled' : 'pending_approval',
      id,
    ),
  );
  tickets.push(...(await insertTicketRows(app.db, edges)));
  if (isPostgres(app.db)) {
    await app.db.raw("select setval('tickets_id_seq', (select max(id) from tickets))");
    await app.db.raw('analyze tickets');
  }
});

test.after.always(() => app?.close());

/** What a search must list: the tickets holding `q` (any case), newest first. */
function expected(q: string, opts: { status?: string; includeDeleted?: boolean } = {}): number[] {
  return tickets
    .filter((x) => x.location.toLowerCase().includes(q.toLowerCase()))
    .filter((x) => (opts.status ? x.status === opts.status : opts.includeDeleted || x.status !== 'deleted'))
    .map((x) => x.id)
    .sort((a, b) => b - a);
}

/** Every page of `query`, following the Link header: the ids of each page. */
async function pages(query: string): Promise<number[][]> {
  const out: number[][] = [];
  let next: string | undefined = `/api/tickets?${query}`;
  while (next) {
    const res = await ben.send('GET', next);
    if (res.status !== 200) throw new Error(`${next}: ${res.status} ${res.text}`);
    out.push(res.json.map((x: { id: number }) => x.id));
    next = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
  }
  return out;
}

const filterOf = (q: string, extra: Partial<ListFilter> = {}): ListFilter => ({
  viewerId: benId,
  filter: 'all',
  includeDeleted: false,
  limit: 20,
  q,
  ...extra,
});

test('on PostgreSQL a rare word of everyone’s tickets is read bucket by bucket; within a person it is not', async (t) => {
  const all = await planSearch(app.db, filterOf('kestrel panel'));
  const one = await planSearch(app.db, filterOf('kestrel'));
  const mine = await planSearch(app.db, filterOf('kestrel', { filter: 'mine' }));
  const common = await planSearch(app.db, filterOf('rack'));
  if (isPostgres(app.db)) {
    t.true(all.bucketed);
    t.true(one.bucketed, 'one rare word too');
    t.is(one.indexWord, 'kestrel');
    t.falsy(mine.bucketed, 'a person’s search may use that person’s index instead');
    t.is(mine.indexWord, undefined, 'one word within a person: the planner chooses');
  } else {
    for (const f of [all, one, mine]) t.falsy(f.bucketed);
  }
  t.falsy(common.bucketed, 'a common word fills a page from the newest tickets without the index');
});

test.serial('by default a word in few tickets is read in one lookup, without buckets', async (t) => {
  searchPlanning.bucketedFromRows = BUCKETED_FROM_ROWS;
  try {
    const few = await planSearch(app.db, filterOf('kestrel panel'));
    t.falsy(few.bucketed, 'a handful of tickets hold each word: fewer than bucket steps are worth');
    if (isPostgres(app.db)) t.true(['kestrel', 'panel'].includes(few.indexWord ?? ''), 'still a rare word alone');
    t.deepEqual((await pages('q=kestrel%20panel&limit=2')).flat(), expected('kestrel panel'));
  } finally {
    searchPlanning.bucketedFromRows = 0;
  }
});

test('every page size and cursor crosses bucket edges and finds exactly the matching tickets, newest first', async (t) => {
  for (const q of ['kestrel', 'kestrel panel', 'KESTREL ROOF', 'panel 131071', 'yard shed', 'KÄSTREL']) {
    const want = expected(q);
    t.true(want.length > 0, q);
    for (const limit of [1, 2, 3, 5, 200]) {
      const got = await pages(`q=${encodeURIComponent(q)}&limit=${limit}`);
      t.deepEqual(got.flat(), want, `${q}, ${limit} a page`);
      t.true(
        got.slice(0, -1).every((page) => page.length === limit),
        `${q}: every page but the last is full (${limit})`,
      );
    }
  }
  t.deepEqual(expected('kestrel').slice(0, 3), [4 * BUCKET + 9000, 4 * BUCKET + 1, 4 * BUCKET], 'the newest bucket first');
  t.false(expected('kestrel').includes(320), 'every three letters of the word are not the word');
  t.deepEqual(expected('kästrel'), [321]);
  t.deepEqual(await pages('q=kestrel%20owl'), [[]], 'no match: every bucket read, nothing found');
});

test('status and deleted requests combine with a bucketed search', async (t) => {
  const fulfilled = await pages('q=kestrel&status=fulfilled&limit=1');
  t.deepEqual(fulfilled.flat(), expected('kestrel', { status: 'fulfilled' }));
  t.deepEqual(
    fulfilled.flat(),
    [...FULFILLED].sort((a, b) => b - a),
  );
  t.false(expected('kestrel').includes(DELETED), 'the deleted request is left out');
  const withDeleted = await pages('q=kestrel&include_deleted=true&limit=2');
  t.deepEqual(withDeleted.flat(), expected('kestrel', { includeDeleted: true }));
  t.true(withDeleted.flat().includes(DELETED), 'and listed when asked for');
});

test('on PostgreSQL the bucketed page equals the plain plan’s for every filter, limit and cursor', async (t) => {
  if (!isPostgres(app.db)) {
    t.pass('SQLite has no buckets');
    return;
  }
  const cursors = [undefined, 4 * BUCKET + 1, 4 * BUCKET, 2 * BUCKET, BUCKET + 1, BUCKET, 641, 8];
  let compared = 0;
  for (const q of ['kestrel', 'kestrel roof', 'roof 65535', 'kästrel']) {
    for (const extra of [{}, { status: 'fulfilled' as const }, { includeDeleted: true }]) {
      for (const limit of [1, 3, 20]) {
        for (const cursor of cursors) {
          const f = await planSearch(app.db, filterOf(q, { ...extra, limit, cursor }));
          t.true(f.bucketed, q);
          // The page statements themselves (listTickets would plan the search again, bucketed).
          const ids = async (query: Knex.QueryBuilder) => ((await query) as { id: number }[]).map((x) => x.id);
          const bucketed = await ids(listTicketsQuery(app.db, f));
          const plain = await ids(listTicketsQuery(app.db, { ...f, bucketed: false }));
          t.deepEqual(bucketed, plain, JSON.stringify({ q, extra, limit, cursor }));
          compared += bucketed.length;
        }
      }
    }
  }
  t.true(compared > 100, 'the comparisons listed tickets');
  const empty = await listTickets(app.db, { ...filterOf('kestrel'), bucketed: true, indexWord: 'kestrel', cursor: 1 });
  t.deepEqual(empty.tickets, [], 'below the oldest ticket: nothing, and no bucket below 0 read');
});

test.serial('on PostgreSQL a bucketed search is kept and answers 304 until a listed ticket changes', async (t) => {
  const url = '/api/tickets?q=kestrel%20panel';
  const first = await ben.send('GET', url);
  const etag = first.headers.get('etag');
  if (!isPostgres(app.db)) {
    t.is(etag, null, 'SQLite keeps no list');
    return;
  }
  t.truthy(etag);
  t.is((await ben.send('GET', url, undefined, { 'if-none-match': etag ?? '' })).status, 304);
  const listed = first.json[0] as { id: number; location: string };
  const edit = await ben.send('PATCH', `/api/tickets/${listed.id}`, { location: `${listed.location} east` });
  t.is(edit.status, 200, edit.text);
  const after = await ben.send('GET', url, undefined, { 'if-none-match': etag ?? '' });
  t.is(after.status, 200);
  t.is(after.json[0].location, `${listed.location} east`);
  t.deepEqual(
    after.json.map((x: { id: number }) => x.id),
    first.json.map((x: { id: number }) => x.id),
  );
  const row = tickets.find((x) => x.id === listed.id);
  if (row) row.location = `${listed.location} east`;
});

test.serial('on PostgreSQL a bucketed search is one statement, however many buckets it reads', async (t) => {
  const url = `/api/tickets?q=kestrel&limit=${EDGE_IDS.length + KESTREL_FILLERS.size}`;
  await ben.send('GET', url); // the word's estimates and the index check, kept ten minutes
  const statements: string[] = [];
  const seen = (query: { sql: string }) => statements.push(query.sql);
  app.db.on('query', seen);
  let res: Awaited<ReturnType<Client['send']>>;
  try {
    res = await ben.send('GET', url);
  } finally {
    app.db.off('query', seen);
  }
  t.deepEqual(
    res.json.map((x: { id: number }) => x.id),
    expected('kestrel'),
  );
  const lists = statements.filter((sql) => /from ["`]tickets["`] as ["`]t["`]/.test(sql));
  t.is(lists.length, 1, statements.join('\n'));
  if (isPostgres(app.db)) t.regex(lists[0] ?? '', /with recursive "w"/, 'buckets 4, 2, 1 and 0 in one statement');
  else t.notRegex(lists[0] ?? '', /recursive/);
});

/** Every node of a JSON plan, depth first. */
function planNodes(node: Record<string, unknown>): Record<string, unknown>[] {
  const children = (node.Plans as Record<string, unknown>[] | undefined) ?? [];
  return [node, ...children.flatMap(planNodes)];
}

test('on PostgreSQL the steps use the bucket index and run only between the newest and the oldest ticket', async (t) => {
  if (!isPostgres(app.db)) {
    t.pass('SQLite has no buckets');
    return;
  }
  let prepares = 0;
  const steps = async (cursor?: number) => {
    const f = await planSearch(app.db, filterOf('kestrel owl', { cursor }));
    t.true(f.bucketed);
    const { sql, bindings } = listTicketsQuery(app.db, f).toSQL().toNative();
    // As a prepared statement, planned for these values and (what the app runs after five executions)
    // for any: both plans look the word up in the keys index and take the same steps.
    const loops = [];
    for (const mode of ['force_custom_plan', 'force_generic_plan']) {
      const name = `steps_${++prepares}`;
      const nodes = await app.db.transaction(async (trx) => {
        await trx.raw(`set local plan_cache_mode = ${mode}`);
        await trx.raw(`prepare ${name} as ${sql}`);
        // EXECUTE takes its values as literals, not as parameters: knex writes them in.
        const execute = trx.raw(`execute ${name}(${bindings.map(() => '?').join(', ')})`, bindings).toQuery();
        const { rows } = await trx.raw<{ rows: { 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }[] }>(
          `explain (analyze, format json) ${execute}`,
        );
        await trx.raw(`deallocate ${name}`);
        return planNodes(rows[0]?.['QUERY PLAN'][0].Plan ?? {});
      });
      t.true(
        nodes.some((n) => n['Index Name'] === 'tickets_search_keys'),
        `${mode}: each step looks the word up in its bucket`,
      );
      loops.push(nodes.find((n) => n['Node Type'] === 'WorkTable Scan')?.['Actual Loops']);
    }
    t.is(loops[0], loops[1], 'both plans take the same steps');
    return loops[0];
  };
  // No match: every bucket from the newest ticket's (4) down to the oldest's (0), and the end.
  t.is(await steps(), 6);
  t.is(await steps(2 ** 31 - 1), 6, 'a cursor far above the newest ticket adds no empty buckets');
  t.is(await steps(BUCKET + 1), 3, 'below the cursor: buckets 1 and 0');
  t.deepEqual(await pages(`q=kestrel&cursor=${2 ** 31 - 1}&limit=50`), [expected('kestrel')]);
});

test('the app’s page sizes run the prepared statement, its generic plan included, with the same answer', async (t) => {
  for (const q of ['kestrel', 'kestrel roof']) {
    for (let i = 0; i < 8; i++)
      t.deepEqual((await pages(`q=${encodeURIComponent(q)}&limit=20`)).flat(), expected(q), `${q} #${i}`);
    for (let i = 0; i < 8; i++)
      t.deepEqual((await pages(`q=${encodeURIComponent(q)}&limit=50`)).flat(), expected(q), `${q} #${i}`);
  }
});
