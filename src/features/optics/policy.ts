import type { Principal } from '../../http/context.ts';

const isAdmin = (user: Principal) => user.role === 'admin';

/** A user sees their own requests; admins see everyone's. */
export const canView = (user: Principal, request: { requested_by_id: number }) =>
  isAdmin(user) || request.requested_by_id === user.id;

/** Approve, deny and archive. */
export const canDecide = (user: Principal) => isAdmin(user);

/** Add and remove part numbers. */
export const canManageParts = (user: Principal) => isAdmin(user);
