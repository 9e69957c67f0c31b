import type { Knex } from 'knex';
import { type Db, escapeLike, isPostgres, prepared } from '../../db/index.ts';
import { type ItemRow, LIST_TICKET_COLUMNS, type ListRow, PEOPLE_COLUMNS, type Q, withPeople } from './queries.ts';
import type { Status } from './states.ts';

/**
 * The ticket list: its filters (person, status, deleted, cursor), its search and how that search is
 * planned on PostgreSQL, and one page read with its people and items in one statement.
 */

/**
 * A search without a run of three letters or digits ("b2", "7 8", "50%") gives a trigram index nothing
 * to look up, so on a big table it would read every row. Such a search looks through the newest
 * SHORT_SEARCH_WINDOW requests only (what someone typing "b2" usually wants); the dashboard says so.
 */
export const SHORT_SEARCH_WINDOW = 10_000;
export const isShortSearch = (q: string | undefined): boolean => Boolean(q) && !/[\p{L}\p{N}]{3}/u.test(q ?? '');

/** Escapes LIKE wildcards so a search for "50%" means the characters. */
const likePattern = (q: string) => `%${escapeLike(q.toLowerCase())}%`;
/** The search's condition on `expression` (the list's and the planner estimate's must be the same). */
const searchLike = (expression: string) => `${expression} like ? escape '\\'`;
/** The whole search, on an expression no index covers: checked on the rows an index lookup found. */
const wholeSearch = searchLike("(t.search_text || '')");

export interface ListFilter {
  viewerId: number;
  filter: 'all' | 'mine' | 'assigned';
  status?: Status;
  q?: string;
  includeDeleted: boolean;
  cursor?: number;
  limit: number;
  /** Only ids above this (a short search's window; planSearch sets it). */
  idFloor?: number;
  /** PostgreSQL: the search's rare word, the only part looked up in the trigram index (planSearch sets it). */
  indexWord?: string;
  /** PostgreSQL: search only the person's tickets, newest first, without the trigram index (planSearch sets it). */
  scanPerson?: boolean;
  /** PostgreSQL: look indexWord up one id range at a time, newest first (bucketedPageQuery; planSearch sets it). */
  bucketed?: boolean;
}

/**
 * Newest first, by id (keyset): one page plus one row to know whether another page exists. Tickets
 * only: names are joined to the page, not to every row the filters look at (a search's row estimate
 * can be far off, and a plan joining users row by row then cost more than the search).
 */
export function listTicketsQuery(q: Q, f: ListFilter): Knex.QueryBuilder {
  if (f.bucketed) return bucketedPageQuery(q, f);
  const query = filteredTickets(q, f);
  if (f.q && f.indexWord) {
    query.whereRaw(searchLike('t.search_text'), [likePattern(f.indexWord)]);
    // The whole search as an expression the trigram index does not cover: checked on the word's rows only.
    if (f.indexWord !== f.q.toLowerCase()) query.whereRaw(wholeSearch, [likePattern(f.q)]);
  } else if (f.q && f.scanPerson) {
    // No index serves strpos: the person's index is read newest first until the page is full.
    query.whereRaw('strpos(t.search_text, ?) > 0', [f.q.toLowerCase()]);
  } else if (f.q) {
    query.whereRaw(searchLike('t.search_text'), [likePattern(f.q)]);
    if (f.idFloor !== undefined) query.where('t.id', '>', f.idFloor);
  }
  return query;
}

/** The list's tickets as its filters other than the search choose them: person, status, deleted, cursor. */
function filteredTickets(q: Q, f: ListFilter): Knex.QueryBuilder {
  // The limit is written into the SQL (a validated integer), so a prepared list gets a plan for its
  // page size: with a parameter, PostgreSQL costs an unknown limit as 10 % of the table and replans.
  const query = q('tickets as t')
    .select(LIST_TICKET_COLUMNS)
    .limit(f.limit + 1, { skipBinding: true });
  // A person's or a status's list is read from its own index, (person, id) or (status, id), newest
  // first. Written as `col = ?` ordered by id, a prepared statement's generic plan may read the
  // primary key backwards and filter instead, which is cheap only while the newest tickets match: a
  // status or person with only old tickets would read the whole table. As a one-value range ordered
  // by that column (the same rows in the same order), only its index gives the order unsorted.
  // Only without a search: a search is planned for its values, and there a one-value range's estimate
  // (~1 row for most people) would always send the planner to the person's index instead of the word's.
  // With a person too, the status is a plain condition on the person's rows (as a range, the planner
  // would intersect the person's index with the status's, which costs more than reading the person's).
  const person = f.filter === 'mine' ? 't.created_by_id' : f.filter === 'assigned' ? 't.assigned_to_id' : undefined;
  const own: { column: string; value: number | string } | undefined = person
    ? { column: person, value: f.viewerId }
    : f.status
      ? { column: 't.status', value: f.status }
      : undefined;
  if (own && !f.q) query.whereBetween(own.column, [own.value, own.value]).orderBy(own.column, 'desc');
  else if (own) query.where(own.column, own.value);
  if (f.status && person) query.where('t.status', f.status);
  // A literal, not a parameter: the partial indexes on the live tickets match it even in a generic plan.
  else if (!f.status && !f.includeDeleted) query.whereRaw("t.status <> 'deleted'");
  query.orderBy('t.id', 'desc');
  if (f.cursor) query.where('t.id', '<', f.cursor);
  return query;
}

/**
 * Tickets are grouped by id into ranges of 2^SEARCH_BUCKET_BITS ids ("buckets": ids 0-65535, 65536-…).
 * The trigram index answers "which tickets hold this word" in no order, so a page of the newest
 * matches of a word needs every ticket holding it read and sorted, a cost that grows with the table.
 * The search keys index (migration 20261128100000) holds, for each ticket,
 * every three characters of its search text prefixed by its bucket: `ticket_search_keys(id,
 * search_text)`, e.g. {"15:flo", "15:loo", …} for ticket 1,000,000. A word's keys in one bucket,
 * `ticket_search_keys(bucket << 16, word)`, are contained in the keys of exactly the bucket's tickets
 * whose text holds every three characters of the word: each key's list holds only that bucket's
 * tickets, so a lookup reads a bucket's share of the word, never the whole table's.
 */
export const SEARCH_BUCKET_BITS = 16;
/** The SQL function of a ticket's (or a word's) search keys, in its bucket (migration 20261128100000). */
const SEARCH_KEYS = 'ticket_search_keys';

/**
 * PostgreSQL, a search whose rare word (indexWord) the index looks up: the page's tickets found bucket
 * by bucket, newest first, stopping once a page (limit + 1) is found, in one statement. The recursive
 * part `w` holds one row per bucket read: the bucket below it (b), the tickets found so far (found) and
 * the newest matches in the bucket just read (ids, at most limit + 1). The page is then the newest of
 * all ids found, read by primary key. Each step is the whole list condition (filters, status, cursor)
 * with the word's keys in the bucket and the whole search checked on the rows they find, so the result
 * is exactly listTicketsQuery's without `bucketed`. The steps run from the bucket of the newest ticket
 * (below the cursor) down to the oldest ticket's: a search with few matches reads each of those (one index lookup each, reading only the word's rows); a cursor
 * far above the newest ticket, or old tickets purged, add no empty steps.
 */
function bucketedPageQuery(q: Q, f: ListFilter): Knex.QueryBuilder {
  // No word, no keys: every ticket's keys contain the empty set, and each step would read them all.
  if (!f.q || !f.indexWord) throw new Error('a bucketed search needs its search and the word to look up');
  const need = f.limit + 1;
  const inBucket = filteredTickets(q, f)
    .clearSelect()
    .select('t.id')
    .whereRaw(`${SEARCH_KEYS}(t.id, t.search_text) @> ${SEARCH_KEYS}(w.b << ${SEARCH_BUCKET_BITS}, ?)`, [f.indexWord])
    .whereRaw(wholeSearch, [likePattern(f.q)]);
  // The newest ticket's bucket (below the cursor: the page lies there); none in an empty table.
  const newest = f.cursor
    ? q.raw('(select max(id) from tickets where id < ?)', [f.cursor])
    : q.raw('(select max(id) from tickets)');
  const buckets = q.raw(
    `select ? >> ${SEARCH_BUCKET_BITS}, 0, '{}'::int[] union all ` +
      // OFFSET 0 keeps the lookup a subquery of its own: inlined, it ran once per use of m.ids.
      'select w.b - 1, w.found + cardinality(m.ids), m.ids from w cross join lateral (select array(?) as ids offset 0) as m ' +
      `where w.found < ${need} and w.b >= (select min(id) from tickets) >> ${SEARCH_BUCKET_BITS}`,
    [newest, inBucket],
  );
  return q
    .withRecursive('w', ['b', 'found', 'ids'], buckets)
    .select(LIST_TICKET_COLUMNS)
    .from('tickets as t')
    .whereRaw('t.id = any(array(select unnest(w.ids) from w))')
    .orderBy('t.id', 'desc')
    .limit(need, { skipBinding: true });
}

export interface ListedTicket {
  ticket: ListRow;
  items: ItemRow[];
}

const ITEM_COLUMNS = [
  'id',
  'position',
  'cable_type',
  'cable_length',
  'cable_gauge',
  'quantity',
  'approved_quantity',
  'approval_note',
] as const;
type ItemColumns = { [K in (typeof ITEM_COLUMNS)[number] as `item_${K}`]: ItemRow[K] | null };

/** What a list row holds: the page's ticket (p), its people's names, one of its items. */
const PAGE_COLUMNS = ['p.*', ...PEOPLE_COLUMNS, ...ITEM_COLUMNS.map((c) => `i.${c} as item_${c}`)];

/** Newest ticket first, each ticket's items in their order. */
const LIST_ORDER: { column: string; order: 'asc' | 'desc' }[] = [
  { column: 'p.id', order: 'desc' },
  { column: 'i.position', order: 'asc' },
];

/**
 * The page (as listTicketsQuery) with its people's names and each ticket's items, in one statement:
 * the page is a limited subquery, joined to users and items (a list costs one round trip to the
 * database, not one plus one).
 */
export const listTicketsWithItemsQuery = (q: Q, f: ListFilter) =>
  withPeople(q.select(PAGE_COLUMNS).from(listTicketsQuery(q, f).as('p')), 'p')
    .leftJoin('ticket_items as i', 'i.ticket_id', 'p.id')
    .orderBy(LIST_ORDER);

/**
 * PostgreSQL: the version of a page, from what the page shows: each ticket's id and row version
 * (`xmin`, the transaction that last wrote the row: every UPDATE makes a new one) and those of its
 * creator's and assignee's rows, plus the extra row that tells whether another page follows. Items
 * are covered by their ticket's row: they are written only with it (a create; an edit, which updates
 * the ticket in the same transaction).
 */
const LIST_VERSION = `md5(coalesce(string_agg(p.id || '.' || p.row_version || '.' || c.xmin || '.' || a.xmin, ',' order by p.id desc), ''))`;

/**
 * PostgreSQL: the page's version (list_version) and, only when it differs from `known`, the page
 * itself as listTicketsWithItemsQuery has it; in one statement, so the version and the rows are of one
 * snapshot. When the version is `known` the answer is one row, the version: the join to the page keeps
 * no row, so no names or items are looked up. An empty page is one row too, its columns null.
 */
export const versionedListQuery = (q: Q, f: ListFilter, known: string | undefined) =>
  q
    .with('p', listTicketsQuery(q, f).select(q.raw('t.xmin::text as row_version')))
    .with('v', (v) => withPeople(v.select(q.raw(`${LIST_VERSION} as list_version`)).from('p'), 'p'))
    .select('v.list_version', ...PAGE_COLUMNS)
    .from('v')
    .joinRaw('left join p on v.list_version is distinct from ?', [known ?? null])
    .leftJoin('users as c', 'c.id', 'p.created_by_id')
    .leftJoin('users as a', 'a.id', 'p.assigned_to_id')
    .leftJoin('ticket_items as i', 'i.ticket_id', 'p.id')
    .orderBy(LIST_ORDER);

/** Page sizes of the app's own lists: the dashboard's, and the API's when `limit` is not given. */
export const PAGE_SIZES = { dashboard: 20, api: 50 } as const;
const PREPARED_LIMITS = new Set<number>(Object.values(PAGE_SIZES));

/**
 * The prepared statement's name for a list: one per combination of filters, for the app's own page
 * sizes only (a caller's `?limit=` of 1..200 would otherwise leave hundreds of plans in every pooled
 * connection). None for a search planned for its pattern; a bucketed search is prepared: each step
 * reads one bucket's rows of the word, whatever the word, so one plan serves every pattern, and the
 * planning of a statement this large is saved.
 */
export const listShape = (f: ListFilter): string | undefined =>
  (f.q && !f.bucketed) || !PREPARED_LIMITS.has(f.limit)
    ? undefined
    : `${f.bucketed ? 'search_bucketed' : `list_${f.filter}`}${f.status ? '_status' : f.includeDeleted ? '_deleted_too' : ''}${f.cursor ? '_after' : ''}_${f.limit}`;

/**
 * A search of several words makes the trigram index intersect the lists of all their trigrams, and a
 * common word's lists ("floor", "room") hold nearly every ticket: a cost that grows with the table.
 * So on PostgreSQL the search is planned from the planner's own statistics of each word:
 * - a word held by under RARE_WORD_SHARE of the tickets: the index is asked for that word alone and
 *   each ticket it finds is checked for the whole search. Over everyone's tickets, when the word is
 *   in many tickets (searchPlanning), one bucket of ids at a time, newest first, until the page is
 *   full (bucketedPageQuery, which reads a page's worth rather than every ticket holding the word),
 *   also for a search of that one word (so one-word searches are estimated too). In fewer tickets, or
 *   within a person (the planner may rather read the person's tickets), the word is looked up for the
 *   whole table at once; a search of one word, whole.
 * - only common words, within "Created by me" / "Assigned to me": that person's tickets are read
 *   newest first and checked, without the index (common words fill a page early; at worst, no match,
 *   every ticket of that person). Without a person the search is looked up whole: common words match
 *   many tickets, so the newest page is found early.
 */
export const RARE_WORD_SHARE = 0.01;
/**
 * Below this many tickets holding the rare word (the planner's estimate), the word's tickets are read
 * in one lookup: cheaper than the bucket steps a search with few matches takes (every bucket down to
 * the oldest, each reading the index's pending list). A small table never gets there (1 % of 10,000
 * is 100). Tests lower it to see buckets on a small table.
 */
export const searchPlanning = { bucketedFromRows: 500 };
/** Words of a search whose estimates are asked for: its longest. */
const ESTIMATED_WORDS = 3;
const ESTIMATE_TTL_MS = 10 * 60_000;
const ESTIMATES_KEPT = 1_000;
/**
 * Per database (its client's config): what search planning asked PostgreSQL, by key, and when: the
 * estimated tickets holding a word (`word:` + the word; '' for the whole table), whether the search
 * keys index is there. Kept ESTIMATE_TTL_MS, at most ESTIMATES_KEPT keys, the oldest out first.
 */
const planningFacts = new WeakMap<object, Map<string, { value: number; at: number }>>();

async function remembered(q: Q, key: string, ask: () => Promise<number>): Promise<number> {
  let cache = planningFacts.get(q.client.config);
  if (!cache) {
    cache = new Map();
    planningFacts.set(q.client.config, cache);
  }
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < ESTIMATE_TTL_MS) return hit.value;
  const value = await ask();
  cache.delete(key);
  if (cache.size >= ESTIMATES_KEPT) cache.delete(cache.keys().next().value as string); // the oldest
  cache.set(key, { value, at: Date.now() });
  return value;
}

/** The planner's estimate of the tickets holding `word` (of all tickets for ''). */
const estimatedTickets = (q: Q, word: string): Promise<number> =>
  remembered(q, `word:${word}`, async () => {
    const result = await q.raw<{ rows: { 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }[] }>(
      word
        ? `explain (format json) select 1 from tickets t where ${searchLike('t.search_text')}`
        : 'explain (format json) select 1 from tickets t',
      word ? [likePattern(word)] : [],
    );
    return result.rows[0]?.['QUERY PLAN'][0].Plan['Plan Rows'] ?? Number.POSITIVE_INFINITY;
  });

/**
 * Whether the search keys index exists and is valid (an interrupted CREATE INDEX CONCURRENTLY leaves an
 * invalid one): without it each bucket's step would read the whole table.
 */
const hasSearchKeysIndex = async (q: Q): Promise<boolean> =>
  (await remembered(q, 'search keys index', async () => {
    const { rows } = await q.raw<{ rows: { valid: boolean }[] }>(
      "select i.indisvalid as valid from pg_index i where i.indexrelid = to_regclass('tickets_search_keys')",
    );
    return rows[0]?.valid === true ? 1 : 0;
  })) === 1;

/** The search's words of three or more letters or digits (what a trigram index can look up). */
const searchWords = (q: string): string[] => [...new Set(q.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? [])];

/**
 * The filter with its search planned: a short search's window (idFloor); on PostgreSQL the rare word
 * to look up (indexWord) or a person's tickets to read (scanPerson).
 */
export async function planSearch(q: Q, f: ListFilter): Promise<ListFilter> {
  if (!f.q) return f;
  if (isShortSearch(f.q)) {
    // A number, not a subquery: PostgreSQL plans a known 10,000-row range as one backward index scan
    // (with `id > (select max(id) ...)` it guessed a third of the table and started parallel workers).
    const newest = (await q('tickets').max('id as id').first()) as { id: number | null } | undefined;
    return { ...f, idFloor: Math.max(0, (newest?.id ?? 0) - SHORT_SEARCH_WINDOW) };
  }
  if (!isPostgres(q as Db)) return f;
  const words = searchWords(f.q);
  const oneWord = words.length === 1 && words[0] === f.q.toLowerCase();
  const ofPerson = f.filter !== 'all';
  // The longest words only (the likeliest to be rare): a long search must not cost an estimate a word.
  const candidates = [...words].sort((a, b) => b.length - a.length).slice(0, ESTIMATED_WORDS);
  let estimates: { word: string; rows: number }[];
  let total: number;
  try {
    [total, ...estimates] = (await Promise.all([
      estimatedTickets(q, ''),
      ...candidates.map(async (word) => ({ word, rows: await estimatedTickets(q, word) })),
    ])) as [number, ...{ word: string; rows: number }[]];
  } catch {
    return f; // no estimate: the search as written, which is always right
  }
  // Fewest tickets first; on a tie (the planner's floor), the longer word has the fewer trigram matches.
  const rarest = estimates.reduce((a, b) => (b.rows < a.rows || (b.rows === a.rows && b.word.length > a.word.length) ? b : a));
  if (rarest.rows < RARE_WORD_SHARE * total) {
    // Bucket by bucket for everyone's tickets; within a person, the planner may prefer that person's
    // index over the word's (few tickets), which a bucket at a time would not let it choose.
    const bucketed = !ofPerson && rarest.rows >= searchPlanning.bucketedFromRows;
    if (bucketed && (await hasSearchKeysIndex(q).catch(() => false))) return { ...f, indexWord: rarest.word, bucketed: true };
    return oneWord ? f : { ...f, indexWord: rarest.word };
  }
  return ofPerson ? { ...f, scanPerson: true } : f;
}

export interface ListedPage {
  tickets: ListedTicket[];
  /** PostgreSQL, when asked for (`versioned`): the page's version (versionedListQuery). */
  version?: string;
  /** The version was the `known` one: `tickets` is empty, the caller's copy of the page is current. */
  unchanged: boolean;
}

/**
 * A page of tickets, newest first (`limit` + 1 rows: keysetPage). With `versioned` on PostgreSQL, also
 * the page's version, and nothing more when that is `versioned.known`.
 */
export async function listTickets(q: Q, filter: ListFilter, versioned?: { known?: string }): Promise<ListedPage> {
  const f = await planSearch(q, filter);
  const withVersion = Boolean(versioned) && isPostgres(q as Db);
  const query = withVersion ? versionedListQuery(q, f, versioned?.known) : listTicketsWithItemsQuery(q, f);
  const shape = listShape(f);
  type Row = ListRow & ItemColumns & { list_version?: string; row_version?: string };
  const rows: Row[] = shape ? await prepared(query, withVersion ? `${shape}_versioned` : shape) : await query;
  const version = withVersion ? rows[0]?.list_version : undefined;
  if (version !== undefined && version === versioned?.known) return { tickets: [], version, unchanged: true };
  const listed: ListedTicket[] = [];
  let last: ListedTicket | undefined;
  for (const row of rows) {
    const {
      list_version,
      row_version,
      item_id,
      item_position,
      item_cable_type,
      item_cable_length,
      item_cable_gauge,
      item_quantity,
      item_approved_quantity,
      item_approval_note,
      ...ticket
    } = row;
    if (ticket.id === null) continue; // the version's row of an empty page
    if (last?.ticket.id !== ticket.id) {
      last = { ticket, items: [] };
      listed.push(last);
    }
    if (item_id === null || item_id === undefined) continue;
    last.items.push({
      id: item_id,
      ticket_id: ticket.id,
      position: item_position as number,
      cable_type: item_cable_type as string,
      cable_length: item_cable_length as string,
      cable_gauge: item_cable_gauge,
      quantity: item_quantity as number,
      approved_quantity: item_approved_quantity,
      approval_note: item_approval_note,
    });
  }
  return { tickets: listed, version, unchanged: false };
}

/** One line of the list's export: a ticket's fields and people with one of its items (none: item fields null). */
export interface ExportRow {
  id: number;
  status: string;
  priority: string;
  location: string;
  notes: string | null;
  created_at: string;
  updated_at: string;
  created_by_username: string;
  assigned_to_username: string;
  item_position: number | null;
  item_cable_type: string | null;
  item_cable_length: string | null;
  item_cable_gauge: string | null;
  item_quantity: number | null;
  item_approved_quantity: number | null;
}

/** Tickets per statement when the export reads in batches (SQLite, which has no cursor to stream from). */
export const EXPORT_BATCH = 500;

/**
 * The list's export (/tickets.csv): every ticket the list's filters choose, not a page, newest first,
 * one row per item with the people's names (listTicketsWithItemsQuery's columns). The search is the
 * list's condition without the index planning (planning is about finding one page early; an export
 * reads every match): the whole pattern on the search text, and a short search within the newest
 * SHORT_SEARCH_WINDOW (`idFloor`), as the list. With `batch`, only the batch.limit tickets below
 * batch.cursor (reading in batches by id, where no cursor streams).
 */
export function exportRowsQuery(
  q: Q,
  f: Omit<ListFilter, 'limit' | 'cursor'>,
  batch?: { limit: number; cursor?: number },
): Knex.QueryBuilder {
  const tickets = filteredTickets(q, { ...f, limit: (batch?.limit ?? 1) - 1, cursor: batch?.cursor });
  if (!batch) tickets.clear('limit');
  if (f.q) {
    tickets.whereRaw(searchLike('t.search_text'), [likePattern(f.q)]);
    if (f.idFloor !== undefined) tickets.where('t.id', '>', f.idFloor);
  }
  return withPeople(q.select(PAGE_COLUMNS).from(tickets.as('p')), 'p')
    .leftJoin('ticket_items as i', 'i.ticket_id', 'p.id')
    .orderBy(LIST_ORDER);
}
