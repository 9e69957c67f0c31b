import type { Principal } from '../../http/context.ts';
import type { StoredStatus } from './states.ts';

/** The fields a permission depends on. */
export interface TicketAccess {
  created_by_id: number;
  assigned_to_id: number;
  status: StoredStatus;
}

const isAdmin = (user: Principal) => user.role === 'admin';
const isCreator = (user: Principal, t: TicketAccess) => user.id === t.created_by_id;
const isAssignee = (user: Principal, t: TicketAccess) => user.id === t.assigned_to_id;

/** Approve, reject and the work states: the assignee or an admin. */
export const canChangeStatus = (user: Principal, t: TicketAccess) => isAssignee(user, t) || isAdmin(user);
/**
 * A particular move. Deciding (approve / reject) also needs a second person: a creator who is
 * their own assignee cannot approve their own request unless they are an admin.
 */
export const canMoveTo = (user: Principal, t: TicketAccess, to: StoredStatus) =>
  canChangeStatus(user, t) && (isAdmin(user) || !((to === 'approved' || to === 'rejected') && isCreator(user, t)));
/** Fields and items: the creator or an admin, while the request waits for approval. */
export const canEdit = (user: Principal, t: TicketAccess) =>
  (isCreator(user, t) || isAdmin(user)) && t.status === 'pending_approval';
/** Send the assignee a new review link (the old one stops working): the creator or an admin, while pending. */
export const canResendLink = canEdit;
export const canDelete = (user: Principal, t: TicketAccess) => isCreator(user, t) || isAdmin(user);
export const canRestore = canDelete;
export const canPurge = (user: Principal) => isAdmin(user);

/** What the viewer may do now, for the ticket page's buttons. */
export function allowedActions(user: Principal, t: TicketAccess) {
  const deleted = t.status === 'deleted';
  return {
    changeStatus: !deleted && canChangeStatus(user, t),
    edit: !deleted && canEdit(user, t),
    resendLink: !deleted && canResendLink(user, t),
    delete: !deleted && canDelete(user, t),
    restore: deleted && canRestore(user, t),
    purge: deleted && canPurge(user),
  };
}
