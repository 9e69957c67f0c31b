/** DESIGN.md §8: an optics request's statuses and the admin actions that move it. */
export const OPTICS_STATUSES = ['pending', 'approved', 'denied', 'archived'] as const;
export type OpticsStatus = (typeof OPTICS_STATUSES)[number];

export const OPTICS_ACTIONS = ['approve', 'deny', 'archive'] as const;
export type OpticsAction = (typeof OPTICS_ACTIONS)[number];

/** Where each action leads. */
export const ACTION_TARGET: Record<OpticsAction, OpticsStatus> = {
  approve: 'approved',
  deny: 'denied',
  archive: 'archived',
};

/** pending -> approved | denied; anything not yet archived -> archived. */
export function canApply(from: OpticsStatus, action: OpticsAction): boolean {
  return action === 'archive' ? from !== 'archived' : from === 'pending';
}

/** The actions open to an admin on a request in `status`, in button order. */
export const actionsFor = (status: OpticsStatus): OpticsAction[] => OPTICS_ACTIONS.filter((a) => canApply(status, a));

export const OPTICS_STATUS_LABELS: Record<OpticsStatus, string> = {
  pending: 'Pending',
  approved: 'Approved',
  denied: 'Denied',
  archived: 'Archived',
};

export const OPTICS_ACTION_LABELS: Record<OpticsAction, string> = {
  approve: 'Approve',
  deny: 'Deny',
  archive: 'Archive',
};

/** Badge colours shared with tickets (app.css): waiting, good, refused, put away. */
export const OPTICS_BADGE: Record<OpticsStatus, string> = {
  pending: 'status-pending_approval',
  approved: 'status-approved',
  denied: 'status-rejected',
  archived: 'status-closed',
};

/** The part a requester picks when theirs is not on the list. */
export const OTHER = 'Other';
