import type { Knex } from 'knex';
import { eventsQuery, itemsQuery, statusCounts, ticketQuery } from '../src/features/tickets/queries.ts';
import {
  type ListFilter,
  listShape,
  listTicketsWithItemsQuery,
  planSearch,
  versionedListQuery,
} from '../src/features/tickets/search.ts';
import { dashboardLists } from './queries.ts';

/**
 * The plans of the dashboard's queries, built by the app's own query functions: EXPLAIN (ANALYZE,
 * BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite. `npm run bench -- --explain` writes them next
 * to the results; `npx tsx bench/explain.ts <DATABASE_URL>` prints them for a database at hand.
 */
export async function explainQueries(
  db: Knex,
  pg: boolean,
  at: { viewerId: number; ticketId: number; cursor: number },
): Promise<string> {
  const list = async (name: string, partial: Partial<ListFilter>) => {
    const f = await planSearch(db, { viewerId: at.viewerId, filter: 'all', includeDeleted: false, limit: 20, ...partial });
    return [name, listTicketsWithItemsQuery(db, f), Boolean(listShape(f))] as const;
  };
  // [name, the query as the app builds it, whether the app runs it as a prepared statement]
  const queries: (readonly [string, Knex.QueryBuilder, boolean])[] = await Promise.all([
    ...dashboardLists(at.cursor).map(({ name, filter }) => list(name, filter)),
    ['ticket with people', ticketQuery(db, at.ticketId), true] as const,
    ['ticket items', itemsQuery(db, [at.ticketId]), true] as const,
    ['ticket events', eventsQuery(db, at.ticketId), true] as const,
    ['stats (ticket_counts)', statusCounts(db) as unknown as Knex.QueryBuilder, false] as const,
  ]);
  if (pg) {
    // A kept list answer's statement (versionedListQuery): a changed page, and an unchanged one.
    const f = await planSearch(db, { viewerId: at.viewerId, filter: 'all', includeDeleted: false, limit: 20 });
    const [row] = (await versionedListQuery(db, f, undefined)) as { list_version: string }[];
    queries.push(
      ['list: all, versioned, changed (the page and its version)', versionedListQuery(db, f, undefined), true],
      ['list: all, versioned, unchanged (the version only)', versionedListQuery(db, f, row?.list_version), true],
    );
  }
  const out: string[] = [];
  for (const [name, builder, named] of queries) {
    const { sql, bindings } = builder.toSQL();
    // The builders are thenables: only toSQL() is used, nothing ran.
    let lines: string[];
    let how: string;
    if (!pg) {
      const result = (await db.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings as never)) as { detail: string }[];
      lines = result.map((r) => r.detail);
      how = 'EXPLAIN QUERY PLAN';
    } else {
      // As the app runs it: a named statement (src/db prepared()) gets the generic plan PostgreSQL
      // caches for it; anything else is planned for its values. Run twice: the second is warm.
      const plan = async () => {
        if (!named) return (await db.raw(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, bindings as never)).rows;
        const native = builder.toSQL().toNative();
        const values = native.bindings.map((b) => db.raw('?', [b as Knex.Value]).toQuery());
        await db.raw('SET plan_cache_mode = force_generic_plan');
        await db.raw(`PREPARE bench_explain AS ${native.sql}`);
        try {
          return (
            await db.raw(`EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_explain${values.length ? `(${values.join(', ')})` : ''}`)
          ).rows;
        } finally {
          await db.raw('DEALLOCATE bench_explain');
          await db.raw('RESET plan_cache_mode');
        }
      };
      await plan();
      lines = ((await plan()) as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']);
      how = named ? 'prepared statement, generic plan' : 'planned for its values';
    }
    out.push(`== ${name} (${how})\n${sql}\n${JSON.stringify(bindings)}\n${lines.join('\n')}\n`);
  }
  return out.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { createDb } = await import('../src/db/index.ts');
  const { parseDatabaseUrl } = await import('../src/config.ts');
  const url = process.argv[2];
  if (!url) throw new Error('usage: npx tsx bench/explain.ts <DATABASE_URL> [viewerId ticketId cursor]');
  const database = parseDatabaseUrl(url);
  const db = createDb(database, { poolMax: 1 });
  const [viewerId = 1, ticketId = 1000, cursor = 500] = process.argv.slice(3).map(Number);
  process.stdout.write(await explainQueries(db, database.client === 'pg', { viewerId, ticketId, cursor }));
  await db.destroy();
}
