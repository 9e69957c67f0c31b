import { type Db, isUniqueViolation, nowIso } from '../../db/index.ts';
import type { Principal } from '../../http/context.ts';
import { conflict, forbidden, notFound } from '../../http/errors.ts';
import { keysetPage } from '../../lib/keyset.ts';
import { emitEvent } from '../webhooks/service.ts';
import { type AlertSettings, notifyDecided, notifySubmitted } from './messages.ts';
import { canDecide, canManageParts, canView } from './policy.ts';
import { presentOpticsRequest } from './presenter.ts';
import {
  deletePart,
  eventsFor,
  findRequest,
  insertEvent,
  insertPart,
  insertRequest,
  lastRequesterName,
  listParts,
  listRequests,
  moveRequest,
  type OpticsEventRow,
  type OpticsRequestRow,
} from './queries.ts';
import type { OpticsSubmission } from './schema.ts';
import { ACTION_TARGET, canApply, OPTICS_STATUS_LABELS, type OpticsAction, type OpticsStatus } from './states.ts';

export type OpticsSettings = AlertSettings;

// ---- parts --------------------------------------------------------------------------------------

/** The part numbers on offer, without "Other" (callers add it where a choice is shown). */
export async function partNumbers(db: Db): Promise<string[]> {
  return (await listParts(db)).map((p) => p.part_number);
}

export async function addPart(db: Db, actor: Principal, partNumber: string): Promise<void> {
  if (!canManageParts(actor)) throw forbidden('Only an admin can change the parts list.');
  try {
    await insertPart(db, partNumber, nowIso());
  } catch (err) {
    if (isUniqueViolation(err))
      throw conflict(`${partNumber} is already on the list.`, { part_number: 'is already on the list' });
    throw err;
  }
}

export async function removePart(db: Db, actor: Principal, partNumber: string): Promise<void> {
  if (!canManageParts(actor)) throw forbidden('Only an admin can change the parts list.');
  if ((await deletePart(db, partNumber)) === 0) throw notFound(`${partNumber} is not on the parts list.`);
}

// ---- requests -----------------------------------------------------------------------------------

const missing = () => notFound('No optics request with that id.');

/**
 * Stores a request and, in the same transaction, the alert emails, the webhook and the audit row: a
 * request exists exactly when its alerts do.
 */
export async function submitOpticsRequest(
  db: Db,
  requester: Principal,
  input: OpticsSubmission,
  settings: OpticsSettings,
): Promise<OpticsRequestRow> {
  const now = nowIso();
  return db.transaction(async (trx) => {
    const id = await insertRequest(trx, { ...input, requested_by_id: requester.id }, now);
    const request = (await findRequest(trx, id)) as OpticsRequestRow;
    await notifySubmitted(trx, request, settings);
    await emitEvent(trx, 'optics_request.created', { optics_request: presentOpticsRequest(request) }, new Date(now));
    await insertEvent(trx, {
      optics_request_id: id,
      action: 'submitted',
      actor_user_id: requester.id,
      from_status: null,
      to_status: 'pending',
      note: null,
      created_at: now,
    });
    return request;
  });
}

/** One request, if the viewer may see it: someone else's is a 404, as if it did not exist. */
export async function getOpticsRequest(db: Db, viewer: Principal, id: number): Promise<OpticsRequestRow> {
  const request = await findRequest(db, id);
  if (!request || !canView(viewer, request)) throw missing();
  return request;
}

export async function getOpticsDetail(
  db: Db,
  viewer: Principal,
  id: number,
): Promise<{ request: OpticsRequestRow; events: OpticsEventRow[] }> {
  const request = await getOpticsRequest(db, viewer, id);
  return { request, events: await eventsFor(db, id) };
}

export interface ListOptions {
  status?: OpticsStatus;
  includeArchived: boolean;
  cursor?: number;
  limit: number;
}

/** The viewer's page of requests (an admin's covers everyone), newest first. */
export async function listOpticsPage(db: Db, viewer: Principal, options: ListOptions) {
  const rows = await listRequests(db, { ...options, requestedById: viewer.role === 'admin' ? undefined : viewer.id });
  const { rows: requests, nextCursor } = keysetPage(rows, options.limit, (r) => r.id);
  return { requests, nextCursor };
}

export const suggestedRequesterName = (db: Db, user: Principal) => lastRequesterName(db, user.id);

const PAST: Record<OpticsAction, string> = { approve: 'approved', deny: 'denied', archive: 'archived' };

function illegal(status: OpticsStatus, action: OpticsAction) {
  const now = OPTICS_STATUS_LABELS[status].toLowerCase();
  return action === 'archive'
    ? conflict('This optics request is already archived.')
    : conflict(`This optics request is already ${now}: only a pending request can be ${PAST[action]}.`);
}

/**
 * An admin's approve, deny or archive. The move is a conditional update on the status that was read,
 * so of two admins acting at once one wins and the other gets a 409; the audit row and the
 * requester's email commit with the move or not at all. A note, when given, replaces admin_note.
 */
export async function actOnOpticsRequest(
  db: Db,
  actor: Principal,
  id: number,
  action: OpticsAction,
  note: string | undefined,
  settings: OpticsSettings,
): Promise<OpticsRequestRow> {
  if (!canDecide(actor)) throw forbidden('Only an admin can approve, deny or archive optics requests.');
  const request = await findRequest(db, id);
  if (!request) throw missing();
  if (!canApply(request.status, action)) throw illegal(request.status, action);
  const to = ACTION_TARGET[action];
  const now = nowIso();
  const columns: Record<string, unknown> = { status: to, updated_at: now };
  if (note !== undefined) columns.admin_note = note;
  if (to === 'approved' || to === 'denied') Object.assign(columns, { decided_by_id: actor.id, decided_at: now });
  const moved = await db.transaction(async (trx) => {
    if ((await moveRequest(trx, id, request.status, columns)) === 0) return undefined;
    const fresh = (await findRequest(trx, id)) as OpticsRequestRow;
    if (to === 'approved' || to === 'denied') await notifyDecided(trx, fresh, to, actor.username, note ?? null, settings.appUrl);
    await insertEvent(trx, {
      optics_request_id: id,
      action,
      actor_user_id: actor.id,
      from_status: request.status,
      to_status: to,
      note: note ?? null,
      created_at: now,
    });
    return fresh;
  });
  if (moved) return moved;
  // Lost the race: say what it is now (or that it is gone).
  const current = await findRequest(db, id);
  if (!current) throw missing();
  throw conflict(
    `Someone else changed this optics request first: it is now ${OPTICS_STATUS_LABELS[current.status].toLowerCase()}.`,
  );
}
