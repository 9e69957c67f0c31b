import test from 'ava';
import { pageHref } from '../src/http/links.ts';

test('pageHref keeps only the parameters that are set, in order, encoded', (t) => {
  t.is(pageHref('/', {}), '/');
  t.is(pageHref('/', { filter: undefined, status: null, q: '', include_deleted: false, cursor: 0 }), '/', 'unset: left out');
  t.is(
    pageHref('/api/tickets', { status: 'approved', include_deleted: true, limit: 5, cursor: 42 }),
    '/api/tickets?status=approved&include_deleted=true&limit=5&cursor=42',
  );
  t.is(pageHref('/', { q: 'room 12 & 50%' }), '/?q=room+12+%26+50%25');
  t.is(pageHref('', { source_id: 7 }), '?source_id=7', 'an empty base gives the bare query string');
});
