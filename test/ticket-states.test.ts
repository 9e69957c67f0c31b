import test from 'ava';
import { canMove, canStillBeFulfilled, pathFromPending, STATUSES, type StoredStatus } from '../src/features/tickets/states.ts';

test('pathFromPending reaches every status from pending_approval by legal moves only', (t) => {
  for (const status of STATUSES) {
    const path = pathFromPending(status);
    let at: StoredStatus = 'pending_approval';
    for (const next of path) {
      t.true(canMove(at, next), `${at} -> ${next} on the way to ${status}`);
      at = next;
    }
    t.is(at, status);
  }
  t.deepEqual(pathFromPending('closed'), ['approved', 'in_progress', 'fulfilled', 'closed'], 'the usual life, not the shortcut');
  t.deepEqual(pathFromPending('pending_approval'), []);
});

test('canStillBeFulfilled: pending, approved and in progress can; fulfilled, rejected, closed and deleted cannot', (t) => {
  const can = [...STATUSES, 'deleted' as const].filter((s) => canStillBeFulfilled(s));
  t.deepEqual(can, ['pending_approval', 'approved', 'in_progress']);
});
