/** DESIGN.md §4: the statuses and the only legal moves between them. */
export const STATUSES = ['pending_approval', 'approved', 'rejected', 'in_progress', 'fulfilled', 'closed'] as const;
export type Status = (typeof STATUSES)[number];
export type StoredStatus = Status | 'deleted';

export const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

const MOVES: Record<Status, readonly Status[]> = {
  pending_approval: ['approved', 'rejected'],
  approved: ['in_progress', 'closed'],
  rejected: ['closed'],
  in_progress: ['fulfilled', 'closed'],
  fulfilled: ['closed'],
  closed: [],
};

/** The usual life of a request that is approved: each status on the way to closed. */
const WORK_ORDER: readonly Status[] = ['approved', 'in_progress', 'fulfilled', 'closed'];

/**
 * The moves a request makes from pending_approval to `to` along the usual life (approved requests
 * are worked and fulfilled before they close): for demo and benchmark data that looks real.
 */
export const pathFromPending = (to: Status): Status[] =>
  to === 'rejected' ? ['rejected'] : WORK_ORDER.slice(0, WORK_ORDER.indexOf(to) + 1);

/** Whether a request in `from` can still be fulfilled (some chain of moves reaches fulfilled). */
export function canStillBeFulfilled(from: StoredStatus): boolean {
  const seen = new Set<Status>();
  const queue = [...nextStatuses(from)];
  for (let next = queue.shift(); next; next = queue.shift()) {
    if (next === 'fulfilled') return true;
    if (!seen.has(next)) {
      seen.add(next);
      queue.push(...MOVES[next]);
    }
  }
  return false;
}

export const canMove = (from: StoredStatus, to: Status): boolean => from !== 'deleted' && MOVES[from].includes(to);

export const nextStatuses = (from: StoredStatus): readonly Status[] => (from === 'deleted' ? [] : MOVES[from]);

export const STATUS_LABELS: Record<StoredStatus, string> = {
  pending_approval: 'Pending approval',
  approved: 'Approved',
  rejected: 'Rejected',
  in_progress: 'In progress',
  fulfilled: 'Fulfilled',
  closed: 'Closed',
  deleted: 'Deleted',
};

/** The words on the button that makes each move. */
export const ACTION_LABELS: Record<Status, string> = {
  pending_approval: 'Reopen',
  approved: 'Approve',
  rejected: 'Reject',
  in_progress: 'Start work',
  fulfilled: 'Mark fulfilled',
  closed: 'Close',
};
