import type { ListFilter } from '../src/features/tickets/search.ts';

/**
 * The dashboard lists the bench times one at a time (`scale`) and explains (`--explain`): one list, so
 * the names in the results and in the query plans are the same queries. `cursor` is an older page's.
 */
export function dashboardLists(cursor: number): { name: string; filter: Partial<ListFilter> }[] {
  return [
    { name: 'list: all', filter: {} },
    { name: 'list: created by me', filter: { filter: 'mine' } },
    { name: 'list: assigned to me', filter: { filter: 'assigned' } },
    { name: 'list: status pending', filter: { status: 'pending_approval' } },
    { name: 'list: status in progress', filter: { status: 'in_progress' } },
    { name: 'list: an older page (cursor)', filter: { cursor } },
    { name: 'search: common ("cat6a")', filter: { q: 'cat6a' } },
    { name: 'search: a building ("warehouse b")', filter: { q: 'warehouse b' } },
    { name: 'search: rare ("floor 7 room 123")', filter: { q: 'floor 7 room 123' } },
    { name: 'search: mine + word ("rack")', filter: { filter: 'mine', q: 'rack' } },
    { name: 'search: assigned to me + word ("rack")', filter: { filter: 'assigned', q: 'rack' } },
    { name: 'search: no match ("no such cable")', filter: { q: 'no such cable' } },
    { name: 'search: 2 letters, no match ("zq")', filter: { q: 'zq' } },
  ];
}

/** The dashboard URL that shows the list `filter` describes (as its filter form would link it). */
export function dashboardUrl(f: Partial<ListFilter>): string {
  const params = new URLSearchParams();
  if (f.filter && f.filter !== 'all') params.set('filter', f.filter);
  if (f.status) params.set('status', f.status);
  if (f.q) params.set('q', f.q);
  if (f.cursor) params.set('cursor', String(f.cursor));
  const query = params.toString();
  return query ? `/?${query}` : '/';
}
