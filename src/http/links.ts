/** What a query-string value may be; unset ones (undefined, null, '', false, 0) are left out. */
type QueryValue = string | number | boolean | null | undefined;

/**
 * `base` with a query string of the parameters that are set, in the order given: a list's own links
 * (next page, back to the list, the CSV of the same filters) say only what differs from the defaults,
 * so they stay short and a page's URL reads the way its filter form would have sent it.
 */
export function pageHref(base: string, params: Record<string, QueryValue>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '' || value === false || value === 0) continue;
    query.set(name, String(value));
  }
  const s = query.toString();
  return s ? `${base}?${s}` : base;
}
