import type { Readable } from 'node:stream';
import { type Db, isPostgres, nowIso, prepared, type Trx } from '../../db/index.ts';
import type { Principal } from '../../http/context.ts';
import { badRequest, conflict, forbidden, gone, notFound } from '../../http/errors.ts';
import { newLinkSecret } from '../../lib/crypto.ts';
import { keysetPage } from '../../lib/keyset.ts';
import { replyAddress } from '../../lib/reply-address.ts';
import {
  type CutChoice,
  consumeForFulfilment,
  type InventorySettings,
  releaseForTicket,
  reserveForTicket,
} from '../inventory/service.ts';
import { defaultLocation, usableLocation } from '../locations/service.ts';
import { actingApprover, peopleAndAwayByIds, personById } from '../users/service.ts';
import { emitEvent } from '../webhooks/service.ts';
import { notifyReviewNeeded, notifyStatusChange } from './messages.ts';
import { canChangeStatus, canDelete, canEdit, canMoveTo, canPurge, canResendLink, canRestore } from './policy.ts';
import { presentTicket } from './presenter.ts';
import {
  deleteItems,
  type EventRow,
  eventsFor,
  findTicket,
  type ItemRow,
  insertEvent,
  insertItems,
  itemsFor,
  type ListRow,
  moveCount,
  type NewEvent,
  pendingTicketsQuery,
  STORED_TICKET_COLUMNS,
  searchText,
  setApprovedQuantities,
  statusCounts,
  type TicketRow,
} from './queries.ts';
import type { TicketEdit, TicketInput, TicketStats } from './schema.ts';
import {
  EXPORT_BATCH,
  type ExportRow,
  exportRowsQuery,
  isShortSearch,
  type ListFilter,
  listTickets,
  SHORT_SEARCH_WINDOW,
} from './search.ts';

export { type EventRow, findTicket, type ItemRow, type NewEvent, type TicketRow } from './queries.ts';

import { canMove, STATUS_LABELS, STATUSES, type Status, type StoredStatus } from './states.ts';

export interface TicketDetail {
  ticket: TicketRow;
  items: ItemRow[];
  events: EventRow[];
}

export interface Settings {
  appUrl: string;
  approvalTokenTtlHours: number;
  /** INVENTORY_ENFORCE_STOCK: a fulfilment that would take a SKU below zero is a 409 (absent: allowed). */
  inventoryEnforceStock?: boolean;
  /** SECRET_KEY and INBOUND_EMAIL_DOMAIN: review emails carry a signed reply address when both are set. */
  secretKey?: string;
  approvals?: { inboundDomain?: string };
}

/** The request's signed reply address (replies by email decide), or undefined when replies are off. */
export const replyAddressFor = (settings: Settings, ticketId: number): string | undefined =>
  settings.approvals?.inboundDomain && settings.secretKey
    ? replyAddress(ticketId, settings.approvals.inboundDomain, settings.secretKey)
    : undefined;

/** The review page link for a ticket and a token (the token exists in plain text only here). */
export const reviewUrl = (appUrl: string, ticketId: number, token: string) => `${appUrl}/tickets/${ticketId}/review/${token}`;

/** A new review link's token and the ticket columns that hold its hash and expiry. */
function newReviewToken(ttlHours: number) {
  const { token, hash, expiresAt } = newLinkSecret(ttlHours * 3_600_000);
  return { token, columns: { approval_token_hash: hash, approval_token_expires_at: expiresAt } };
}

/** The ticket, or 404. Inside a transaction pass the trx: SQLite has one connection, and it is the trx's. */
export async function loadTicket(db: Db | Trx, id: number): Promise<TicketRow> {
  const ticket = await findTicket(db, id);
  if (!ticket) throw notFound('No ticket with that id.');
  return ticket;
}

const deletedError = () => gone('This ticket was deleted. Restore it to work on it again.');

/** A request needs a second person: a non-admin creator cannot assign it to themself. */
function requireOtherAssignee(id: number, creator: { id: number; role?: string }): void {
  if (id === creator.id && creator.role !== 'admin') {
    const sentence = 'choose someone else to approve your request';
    throw badRequest(`assigned_to_id: ${sentence}`, { assigned_to_id: sentence });
  }
}

const noSuchAssignee = () => badRequest('assigned_to_id: no user with that id', { assigned_to_id: 'no user with that id' });

/** The assignee must exist, and someone other than a non-admin creator: a request needs a second person. */
async function requireAssignee(db: Db | Trx, id: number, creator: { id: number; role?: string }): Promise<void> {
  requireOtherAssignee(id, creator);
  if (!(await personById(db, id))) throw noSuchAssignee();
}

/** The creator's and assignee's names as a ticket row carries them. */
const namesOf = (people: Map<number, { username: string }>, creator: Principal, assignee: { username: string }) => ({
  created_by_username: people.get(creator.id)?.username ?? creator.username,
  assigned_to_username: assignee.username,
});

/**
 * Creates a request: ticket, items, audit event, messages and counters in one transaction. Returns the
 * review link and the ticket with its items as stored (what a GET of it shows), so the API's answer
 * needs no second read. The requester's and assignee's rows are read once, before the transaction:
 * they prove the assignee exists and address the review messages.
 */
export async function createTicket(db: Db, creator: Principal, input: TicketInput, settings: Settings) {
  requireOtherAssignee(input.assigned_to_id, creator);
  // Whether the assignee is away comes with their row: then approvals offers the request to their delegate.
  const people = await peopleAndAwayByIds(db, [creator.id, input.assigned_to_id], new Date());
  const assignee = people.get(input.assigned_to_id);
  if (!assignee) throw noSuchAssignee();
  // A source the requester picked must exist and be active; the default is read by the insert itself.
  const picked =
    input.source_location_id === undefined
      ? undefined
      : (await usableLocation(db, input.source_location_id, 'source_location_id')).id;
  const { token, columns } = newReviewToken(settings.approvalTokenTtlHours);
  const now = nowIso();
  const created = await db.transaction(async (trx) => {
    const [row] = (await prepared(
      trx('tickets')
        .insert({
          created_by_id: creator.id,
          assigned_to_id: input.assigned_to_id,
          status: 'pending_approval',
          priority: input.priority,
          location: input.location,
          notes: input.notes,
          search_text: searchText(input.location, input.notes, input.items),
          source_location_id: picked ?? trx.raw('(select id from locations where is_default = ?)', [true]),
          ...columns,
          created_at: now,
          updated_at: now,
        })
        .returning(STORED_TICKET_COLUMNS),
      'ticket_insert',
    )) as Omit<ListRow, 'created_by_username' | 'assigned_to_username'>[];
    if (!row) throw new Error('the new ticket was not returned');
    const ticketId = Number(row.id);
    const items = await insertItems(trx, ticketId, input.items);
    await insertEvent(trx, {
      ticket_id: ticketId,
      event_type: 'created',
      actor_user_id: creator.id,
      to_status: 'pending_approval',
      created_at: now,
    });
    const facts = { id: ticketId, created_by_id: creator.id, ...input };
    await notifyReviewNeeded(
      trx,
      facts,
      input.items,
      reviewUrl(settings.appUrl, ticketId, token),
      'ticket_created',
      people,
      replyAddressFor(settings, ticketId),
    );
    await emitEvent(
      trx,
      'ticket.created',
      () => ({ ticket: presentTicket({ ...row, id: ticketId, ...namesOf(people, creator, assignee) }, items) }),
      new Date(now),
    );
    // Last: every request filed at once updates this one counter row, and holds its lock until commit.
    await moveCount(trx, null, 'pending_approval');
    return { row, items };
  });
  const id = Number(created.row.id);
  const ticket: ListRow = { ...created.row, id, ...namesOf(people, creator, assignee) };
  return { id, reviewUrl: reviewUrl(settings.appUrl, id, token), ticket, items: created.items, assigneeAway: assignee.away };
}

export async function getTicketDetail(db: Db, id: number, includeDeleted: boolean): Promise<TicketDetail> {
  const ticket = await loadTicket(db, id);
  if (ticket.status === 'deleted' && !includeDeleted) throw deletedError();
  return detailOf(db, ticket);
}

/** A ticket already read, with its items and timeline. */
export async function detailOf(db: Db, ticket: TicketRow): Promise<TicketDetail> {
  const [items, events] = await Promise.all([itemsFor(db, [ticket.id]), eventsFor(db, ticket.id)]);
  return { ticket, items, events };
}

/** A page of the list; with `versioned`, as listTickets says (PostgreSQL: its version, or unchanged). */
export async function listTicketPage(db: Db, filter: ListFilter, versioned?: { known?: string }) {
  const { tickets: listed, version, unchanged } = await listTickets(db, filter, versioned);
  const { rows: tickets, nextCursor } = keysetPage(listed, filter.limit, (t) => t.ticket.id);
  return { tickets, nextCursor, version, unchanged };
}

/**
 * Every ticket of a list's filters with its items, newest first, as rows arrive from the database:
 * streamed through a cursor on PostgreSQL (pg-query-stream), read EXPORT_BATCH tickets at a time by id
 * on SQLite. Memory stays the same whatever the number of tickets.
 */
export async function* exportTicketRows(db: Db, filter: Omit<ListFilter, 'limit' | 'cursor'>): AsyncGenerator<ExportRow> {
  let f = filter;
  if (f.q && isShortSearch(f.q)) {
    const newest = (await db('tickets').max('id as id').first()) as { id: number | null } | undefined;
    f = { ...f, idFloor: Math.max(0, (newest?.id ?? 0) - SHORT_SEARCH_WINDOW) };
  }
  if (isPostgres(db)) {
    // pg-query-stream reads the cursor batchSize rows at a time.
    const stream = exportRowsQuery(db, f).stream({ batchSize: 1000, highWaterMark: 1000 }) as unknown as Readable;
    try {
      for await (const row of stream) yield row as ExportRow;
    } finally {
      stream.destroy();
    }
    return;
  }
  let cursor: number | undefined;
  for (;;) {
    const rows: ExportRow[] = await exportRowsQuery(db, f, { limit: EXPORT_BATCH, cursor });
    yield* rows;
    const ids = new Set(rows.map((r) => r.id));
    if (ids.size < EXPORT_BATCH) return;
    cursor = rows.at(-1)?.id;
  }
}

export async function dashboardStats(db: Db): Promise<TicketStats> {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  let archived = 0;
  for (const row of await statusCounts(db)) {
    if (row.status === 'deleted') archived = Number(row.n);
    else counts[row.status] = Number(row.n);
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return { total_tickets: total, ...counts, archived };
}

/**
 * The one place a status moves: a conditional update on the status we read, so of two people acting
 * at once exactly one changes the row; the other gets `false` and nothing is written for them.
 */
async function moveStatus(
  trx: Trx,
  ticket: TicketRow,
  to: StoredStatus,
  event: Omit<NewEvent, 'ticket_id' | 'created_at' | 'from_status' | 'to_status'>,
  columns: Record<string, unknown> = {},
  guard: Record<string, unknown> = {},
): Promise<boolean> {
  const now = nowIso();
  // The status and the assignee we read: a reassignment in between makes this a lost race too.
  const changed = await trx('tickets')
    .where({ id: ticket.id, status: ticket.status, assigned_to_id: ticket.assigned_to_id, ...guard })
    .update({ status: to, updated_at: now, ...columns });
  if (changed === 0) return false;
  await insertEvent(trx, { ...event, ticket_id: ticket.id, from_status: ticket.status, to_status: to, created_at: now });
  await moveCount(trx, ticket.status, to);
  return true;
}

/** The 409 for a lost race. Inside a transaction pass the trx: SQLite has one connection, and it is the trx's. */
const raceLost = async (db: Db | Trx, id: number) => {
  const now = await findTicket(db, id);
  return conflict(
    now ? `Someone else changed this ticket first: it is now ${STATUS_LABELS[now.status].toLowerCase()}.` : 'The ticket is gone.',
  );
};

/** One line of an approval with changes: the item and what is granted of it (0 drops it), with a note. */
export interface ApprovedLine {
  item_id: number;
  approved_quantity: number;
  note?: string;
}

export interface StatusChange {
  status: Status;
  reason?: string;
  /** Approving: take the cable from here instead of the request's source. */
  source_location_id?: number;
  /** Approving: the lines granted differently from what was asked (the others as asked). */
  lines?: ApprovedLine[];
  /** Fulfilling: the reel chosen for a piece cut from bulk (best fit for the others). */
  cuts?: CutChoice[];
}

/** Who moves a ticket and how: the timeline's actor and channel, and the reason or note. */
export interface Mover {
  actorId: number;
  via: NewEvent['via'];
  reason: string | null;
  /** More conditions on the row: a review link moves it only while its token is the one checked. */
  guard?: Record<string, unknown>;
  /** A decision for someone else: a delegate for the assignee who is away, or an escalation approver. */
  actingAs?: 'delegate' | 'escalation';
  onBehalfOfId?: number;
  /** Approving with changes (see ApprovedLine). */
  lines?: ApprovedLine[];
  /** Approving: the source location the approver chose (the request's own when absent). */
  sourceLocationId?: number;
  /** Fulfilling: reels chosen per piece (see StatusChange). */
  cuts?: CutChoice[];
}

/**
 * How much of an item leaves stock: what the approver granted, or what was asked when the request was
 * approved as it was (or before the approved quantities existed).
 */
export const quantityToTake = (item: Pick<ItemRow, 'quantity' | 'approved_quantity'>): number =>
  item.approved_quantity ?? item.quantity;

const itemName = (i: ItemRow) => `${i.cable_type} ${i.cable_length}${i.cable_gauge ? ` ${i.cable_gauge}` : ''}`;

/**
 * An approval's quantities per item (each line 0..asked; lines not named as asked) and the timeline's
 * lines for what changed ("Cat6 100ft: 3 → 2 (only two left)"). 400 naming the line when one is not on
 * the request, repeated, or past what was asked.
 */
export function approvedQuantities(items: ItemRow[], lines: ApprovedLine[] = []) {
  const byId = new Map(items.map((i) => [i.id, i]));
  const given = new Map<number, ApprovedLine>();
  lines.forEach((line, n) => {
    const item = byId.get(line.item_id);
    const field = `items.${n}`;
    if (!item)
      throw badRequest(`${field}.item_id: item ${line.item_id} is not on this request`, {
        [`${field}.item_id`]: 'is not on this request',
      });
    if (given.has(line.item_id))
      throw badRequest(`${field}.item_id: item ${line.item_id} is named twice`, { [`${field}.item_id`]: 'is named twice' });
    if (line.approved_quantity > item.quantity) {
      const sentence = `must be at most ${item.quantity} (what was asked)`;
      throw badRequest(`${field}.approved_quantity: ${sentence}`, { [`${field}.approved_quantity`]: sentence });
    }
    given.set(line.item_id, line);
  });
  const rows = items.map((item) => {
    const line = given.get(item.id);
    return { id: item.id, approved_quantity: line?.approved_quantity ?? item.quantity, approval_note: line?.note ?? null };
  });
  const changes = items.flatMap((item, n) => {
    const row = rows[n] as (typeof rows)[number];
    if (row.approved_quantity === item.quantity && !row.approval_note) return [];
    const what = row.approved_quantity === 0 ? `${item.quantity} → 0 (dropped)` : `${item.quantity} → ${row.approved_quantity}`;
    return [`${itemName(item)}: ${what}${row.approval_note ? ` · ${row.approval_note}` : ''}`];
  });
  return { rows, changes, nothingGranted: rows.every((r) => r.approved_quantity === 0) };
}

/** The statuses in which a request holds (reserves) its cable at its source. */
const HOLDING: ReadonlySet<string> = new Set(['approved', 'in_progress']);

const inventorySettings = (settings: Pick<Settings, 'appUrl' | 'inventoryEnforceStock'>): InventorySettings => ({
  appUrl: settings.appUrl,
  enforceStock: settings.inventoryEnforceStock ?? false,
});

/**
 * Stock follows the status, in the caller's transaction (DESIGN.md §12): into approved or in progress
 * reserves what was granted at the source; out of them releases it (rejected, closed, deleted);
 * fulfilled consumes from the source and releases together. With INVENTORY_ENFORCE_STOCK a reservation
 * past what is available is a 409 and everything rolls back.
 */
async function stockFollowsStatus(
  trx: Trx,
  ticket: Pick<TicketRow, 'id' | 'source_location_id'>,
  from: StoredStatus,
  to: StoredStatus,
  items: ItemRow[],
  actorId: number,
  settings: Pick<Settings, 'appUrl' | 'inventoryEnforceStock'>,
  cuts?: CutChoice[],
): Promise<void> {
  const stock = inventorySettings(settings);
  const locationId = ticket.source_location_id ? Number(ticket.source_location_id) : (await defaultLocation(trx)).id;
  const lines = items.map((i) => ({ ...i, quantity: quantityToTake(i) })).filter((i) => i.quantity > 0);
  if (to === 'fulfilled') {
    await consumeForFulfilment(trx, { id: ticket.id, actorId, locationId }, lines, stock, cuts);
    return;
  }
  const held = HOLDING.has(from);
  const holds = HOLDING.has(to);
  if (!held && holds) await reserveForTicket(trx, { id: ticket.id, locationId }, lines, stock);
  else if (held && !holds) await releaseForTicket(trx, ticket.id, stock);
}

/** An approval whose every line is at 0 grants nothing: it is a rejection, and says why. */
export const ALL_LINES_AT_ZERO = 'Every line was approved at 0, so nothing was granted.';

/**
 * A status move and what goes with it, in the caller's transaction: the conditional update, the
 * timeline event, the counters, the stock taken at the first move to fulfilled (with
 * INVENTORY_ENFORCE_STOCK a shortfall throws a 409 and everything rolls back) and the requester's
 * messages. False when someone else moved the ticket first; then nothing was written.
 */
async function applyMove(trx: Trx, ticket: TicketRow, asked: Status, mover: Mover, settings: Settings): Promise<Status | false> {
  let to = asked;
  let reason = mover.reason;
  let note = reason;
  const before = await itemsFor(trx, [ticket.id]);
  const approval =
    to === 'approved' && ticket.status === 'pending_approval' ? approvedQuantities(before, mover.lines) : undefined;
  if (approval?.nothingGranted) {
    to = 'rejected';
    reason = reason ?? ALL_LINES_AT_ZERO;
    note = [mover.reason, ALL_LINES_AT_ZERO].filter(Boolean).join('\n');
  } else if (approval?.changes.length) {
    note = [reason, `Approved with changes:\n${approval.changes.join('\n')}`].filter(Boolean).join('\n');
  }
  const ok = await moveStatus(
    trx,
    ticket,
    to,
    {
      event_type: 'status_changed',
      actor_user_id: mover.actorId,
      via: mover.via,
      note,
      acting_as: mover.actingAs ?? null,
      on_behalf_of_id: mover.onBehalfOfId ?? null,
    },
    to === 'rejected' ? { rejection_reason: reason } : {},
    mover.guard,
  );
  if (!ok) return false;
  let items = await itemsFor(trx, [ticket.id]);
  if (approval && to === 'approved') {
    // The row is ours now; items edited between the first read and the move make the lines stale.
    const same =
      items.length === before.length && items.every((i, n) => i.id === before[n]?.id && i.quantity === before[n]?.quantity);
    if (!same) throw conflict('The request was edited while you were deciding. Look at it again, then decide.');
    await setApprovedQuantities(trx, ticket.id, approval.rows);
    items = await itemsFor(trx, [ticket.id]);
  }
  let source = ticket.source_location_id;
  if (approval && to === 'approved' && mover.sourceLocationId !== undefined && mover.sourceLocationId !== source) {
    // The approver picked another source: it must exist and be active, then the request takes from it.
    source = (await usableLocation(trx, mover.sourceLocationId, 'source_location_id')).id;
    await trx('tickets').where({ id: ticket.id }).update({ source_location_id: source });
  }
  await stockFollowsStatus(
    trx,
    { id: ticket.id, source_location_id: source },
    ticket.status,
    to,
    items,
    mover.actorId,
    settings,
    mover.cuts,
  );
  const granted = items.map((i) => ({ ...i, granted: quantityToTake(i) }));
  await notifyStatusChange(trx, ticket, granted, to, mover.actorId, reason, settings.appUrl);
  await emitEvent(trx, 'ticket.status_changed', async () => {
    const [moved, actor] = await Promise.all([findTicket(trx, ticket.id), personById(trx, mover.actorId)]);
    return {
      ticket: presentTicket(moved as TicketRow, items),
      from_status: ticket.status,
      to_status: to,
      changed_by: actor ? { id: actor.id, username: actor.username } : null,
      via: mover.via ?? null,
      reason,
    };
  });
  return to;
}

/**
 * Decides a request waiting for approval, for whoever the caller has already found may decide it
 * (approvals/: a review link, an SMS or email reply). The status it moved to (an approval with every
 * line at 0 is a rejection), or false when it was decided (or changed) first.
 */
export const decideTicket = (db: Db, ticket: TicketRow, decision: 'approved' | 'rejected', mover: Mover, settings: Settings) =>
  db.transaction((trx) => applyMove(trx, ticket, decision, mover, settings));

/**
 * Whether `actor` decides this request as the delegate of its assignee, who is away now (DESIGN.md
 * §15): then they may approve or reject it like the assignee, on the ticket page and the API.
 */
export async function decidesAsDelegate(db: Db | Trx, actor: Principal, ticket: TicketRow, now = new Date()): Promise<boolean> {
  if (ticket.status !== 'pending_approval' || canChangeStatus(actor, ticket) || actor.id === ticket.created_by_id) return false;
  return (await actingApprover(db, ticket.assigned_to_id, now)).userId === actor.id;
}

const isDecision = (status: Status) => status === 'approved' || status === 'rejected';

/** Moves a ticket for a signed-in actor; returns the status it moved to (see decideTicket). */
export async function changeStatus(
  db: Db,
  actor: Principal,
  id: number,
  change: StatusChange,
  settings: Settings,
  via: NewEvent['via'] = null,
): Promise<Status> {
  const ticket = await loadTicket(db, id);
  if (ticket.status === 'deleted') throw deletedError();
  const delegate = isDecision(change.status) && (await decidesAsDelegate(db, actor, ticket));
  if (!delegate && !canChangeStatus(actor, ticket))
    throw forbidden('Only the assignee, their delegate while they are away, or an admin can change this ticket’s status.');
  if (!delegate && !canMoveTo(actor, ticket, change.status)) throw forbidden('You cannot approve or reject your own request.');
  if (!canMove(ticket.status, change.status)) {
    throw conflict(
      `A ticket that is ${STATUS_LABELS[ticket.status].toLowerCase()} cannot move to ${STATUS_LABELS[change.status].toLowerCase()}.`,
    );
  }
  if (change.lines?.length && change.status !== 'approved')
    throw badRequest('items: approved quantities go with an approval only.');
  if (change.cuts?.length && change.status !== 'fulfilled')
    throw badRequest('cuts: reels are chosen when fulfilling only.', { cuts: 'go with a move to fulfilled only' });
  if (change.source_location_id !== undefined && change.status !== 'approved')
    throw badRequest('source_location_id: a source location goes with an approval only.', {
      source_location_id: 'goes with an approval only',
    });
  const mover: Mover = {
    actorId: actor.id,
    via,
    reason: change.reason ?? null,
    lines: change.lines,
    sourceLocationId: change.source_location_id,
    cuts: change.cuts,
    ...(delegate ? { actingAs: 'delegate' as const, onBehalfOfId: ticket.assigned_to_id } : {}),
  };
  const moved = await db.transaction((trx) => applyMove(trx, ticket, change.status, mover, settings));
  if (!moved) throw await raceLost(db, id);
  return moved;
}

/** An event on a ticket's timeline that changes nothing else (a refused reply, a reminder sent). */
export const recordTicketEvent = (db: Db | Trx, event: NewEvent) => insertEvent(db, event);

/** The items of tickets, in order (for follow-up messages, which list them). */
export const itemsOfTickets = (db: Db | Trx, ids: number[]) => itemsFor(db, ids);

/**
 * Requests waiting for approval that a follow-up may be due for: the assignee's link sent at or before
 * `linkSentBefore`, or filed at or before `createdBefore`, or assigned to one of `assignedTo`. A page
 * by id after `afterId`.
 */
export function pendingForFollowUp(
  db: Db,
  f: { linkSentBefore?: Date; createdBefore?: Date; assignedTo?: number[]; afterId: number; limit: number },
  ttlHours: number,
) {
  const linkExpiresBefore = f.linkSentBefore && new Date(f.linkSentBefore.getTime() + ttlHours * 3_600_000).toISOString();
  return pendingTicketsQuery(db, {
    linkExpiresBefore,
    createdBefore: f.createdBefore?.toISOString(),
    assignedTo: f.assignedTo,
    afterId: f.afterId,
    limit: f.limit,
  });
}

/** Throws why `actor` may not edit `ticket` now (410 deleted, 403 not theirs, 409 no longer pending). */
export function assertEditable(actor: Principal, ticket: TicketRow): void {
  if (ticket.status === 'deleted') throw deletedError();
  if (!canEdit(actor, { ...ticket, status: 'pending_approval' }))
    throw forbidden('Only the creator or an admin can edit this ticket.');
  if (ticket.status !== 'pending_approval') throw conflict('Only a request that is waiting for approval can be edited.');
}

export async function editTicket(db: Db, actor: Principal, id: number, edit: TicketEdit, settings: Settings) {
  const ticket = await loadTicket(db, id);
  assertEditable(actor, ticket);
  // An admin editing keeps the creator's rule: the creator may not become their own approver.
  if (edit.assigned_to_id !== undefined) {
    const creator = { id: ticket.created_by_id, role: actor.id === ticket.created_by_id ? actor.role : 'user' };
    await requireAssignee(db, edit.assigned_to_id, creator);
  }
  if (edit.source_location_id !== undefined) await usableLocation(db, edit.source_location_id, 'source_location_id');
  const changedFields = Object.keys(edit).filter((k) => {
    const key = k as keyof TicketEdit;
    return key === 'items' || edit[key] !== (ticket as unknown as Record<string, unknown>)[key];
  });
  if (changedFields.length === 0) return { reviewUrl: undefined };
  const reassigned = edit.assigned_to_id !== undefined && edit.assigned_to_id !== ticket.assigned_to_id;
  // A new assignee gets a new link; the old one stops working.
  const rotated = reassigned ? newReviewToken(settings.approvalTokenTtlHours) : undefined;
  const now = nowIso();
  await db.transaction(async (trx) => {
    const items = edit.items ?? (await itemsFor(trx, [id]));
    const location = edit.location ?? ticket.location;
    const notes = edit.notes !== undefined ? edit.notes : ticket.notes;
    const updated = await trx('tickets')
      .where({ id, status: 'pending_approval' })
      .update({
        assigned_to_id: edit.assigned_to_id ?? ticket.assigned_to_id,
        priority: edit.priority ?? ticket.priority,
        location,
        notes,
        source_location_id: edit.source_location_id ?? ticket.source_location_id,
        search_text: searchText(location, notes, items),
        ...(rotated?.columns ?? {}),
        updated_at: now,
      });
    if (updated === 0) throw await raceLost(trx, id);
    if (edit.items) {
      await deleteItems(trx, id);
      await insertItems(trx, id, edit.items);
    }
    await insertEvent(trx, {
      ticket_id: id,
      event_type: 'edited',
      actor_user_id: actor.id,
      note: `Changed ${changedFields.join(', ')}`,
      created_at: now,
    });
    if (rotated) {
      const facts = { ...ticket, assigned_to_id: edit.assigned_to_id ?? ticket.assigned_to_id, location, notes };
      await notifyReviewNeeded(
        trx,
        facts,
        items,
        reviewUrl(settings.appUrl, id, rotated.token),
        'ticket_reassigned',
        undefined,
        replyAddressFor(settings, id),
      );
    }
  });
  return { reviewUrl: rotated ? reviewUrl(settings.appUrl, id, rotated.token) : undefined };
}

/** What stock moves need to know of the app's settings when a status changes outside a decision. */
type StockSettings = Pick<Settings, 'appUrl' | 'inventoryEnforceStock'>;
const NO_STOCK_SETTINGS: StockSettings = { appUrl: '' };

export async function deleteTicket(db: Db, actor: Principal, id: number, settings: StockSettings = NO_STOCK_SETTINGS) {
  const ticket = await loadTicket(db, id);
  if (!canDelete(actor, ticket)) throw forbidden('Only the creator or an admin can delete this ticket.');
  if (ticket.status === 'deleted') throw gone('This ticket is already deleted.');
  const moved = await db.transaction(async (trx) => {
    const ok = await moveStatus(
      trx,
      ticket,
      'deleted',
      { event_type: 'deleted', actor_user_id: actor.id },
      {
        status_before_delete: ticket.status,
        deleted_at: nowIso(),
        deleted_by_id: actor.id,
      },
    );
    if (ok) await stockFollowsStatus(trx, ticket, ticket.status, 'deleted', [], actor.id, settings);
    return ok;
  });
  if (!moved) throw await raceLost(db, id);
}

/** A restored approved request reserves again (with INVENTORY_ENFORCE_STOCK, a 409 when it no longer can). */
export async function restoreTicket(db: Db, actor: Principal, id: number, settings: StockSettings = NO_STOCK_SETTINGS) {
  const ticket = await loadTicket(db, id);
  if (!canRestore(actor, ticket)) throw forbidden('Only the creator or an admin can restore this ticket.');
  if (ticket.status !== 'deleted' || !ticket.status_before_delete) throw conflict('This ticket is not deleted.');
  const to = ticket.status_before_delete as Status;
  const moved = await db.transaction(async (trx) => {
    const ok = await moveStatus(
      trx,
      ticket,
      to,
      { event_type: 'restored', actor_user_id: actor.id },
      {
        status_before_delete: null,
        deleted_at: null,
        deleted_by_id: null,
      },
    );
    if (ok) await stockFollowsStatus(trx, ticket, 'deleted', to, await itemsFor(trx, [id]), actor.id, settings);
    return ok;
  });
  if (!moved) throw await raceLost(db, id);
}

/** Hard delete, admins only, and only after a soft delete; items and events go with it. */
export async function purgeTicket(db: Db, actor: Principal, id: number) {
  if (!canPurge(actor)) throw forbidden('Only an admin can purge a ticket.');
  const ticket = await loadTicket(db, id);
  if (ticket.status !== 'deleted') throw conflict('Delete the ticket before purging it.');
  await db.transaction(async (trx) => {
    const removed = await trx('tickets').where({ id, status: 'deleted' }).delete();
    if (removed === 0) throw await raceLost(trx, id);
    // Deleting released it already; a reservation left by anything else goes with the request.
    await releaseForTicket(trx, id, { appUrl: '' });
    await moveCount(trx, 'deleted', null);
  });
}

/** 410 for a deleted ticket, 409 for a decided one: only a request waiting for approval has a review link. */
function assertNeedsReview(ticket: TicketRow): void {
  if (ticket.status === 'deleted') throw deletedError();
  if (ticket.status !== 'pending_approval') throw conflict('This request was already decided; it needs no review link.');
}

/** A new review link no sooner than this after the last one: the button must not become a pager. */
export const RESEND_LINK_AFTER_MS = 10 * 60_000;

/** When the assignee's current review link was sent (its expiry less its lifetime), or undefined when none. */
export function reviewLinkSentAt(ticket: Pick<TicketRow, 'approval_token_expires_at'>, ttlHours: number): Date | undefined {
  if (!ticket.approval_token_expires_at) return undefined;
  return new Date(new Date(ticket.approval_token_expires_at).getTime() - ttlHours * 3_600_000);
}

/** When "Send the review link again" works for this ticket (it may be now or past). */
export const resendAvailableAt = (ticket: Pick<TicketRow, 'approval_token_expires_at'>, ttlHours: number): Date =>
  new Date((reviewLinkSentAt(ticket, ttlHours)?.getTime() ?? 0) + RESEND_LINK_AFTER_MS);

/**
 * Sends the assignee a fresh review link by email and SMS (a lost email, an expired link): the old
 * link stops working, the timeline records who asked. The creator or an admin, while the request
 * waits for approval, at most once in RESEND_LINK_AFTER_MS.
 */
export async function resendReviewLink(db: Db, actor: Principal, id: number, settings: Settings): Promise<{ assignee: string }> {
  const ticket = await loadTicket(db, id);
  if (ticket.status !== 'deleted' && !canResendLink(actor, { ...ticket, status: 'pending_approval' })) {
    throw forbidden('Only the creator or an admin can send the review link again.');
  }
  assertNeedsReview(ticket);
  const wait = resendAvailableAt(ticket, settings.approvalTokenTtlHours).getTime() - Date.now();
  if (wait > 0) {
    const minutes = Math.ceil(wait / 60_000);
    throw conflict(
      `A review link was sent less than ${RESEND_LINK_AFTER_MS / 60_000} minutes ago. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
    );
  }
  const { token, columns } = newReviewToken(settings.approvalTokenTtlHours);
  const now = nowIso();
  await db.transaction(async (trx) => {
    // Only over the link that was checked: of two clicks at once, one sends and the other is told.
    const updated = await trx('tickets')
      .where({ id, status: 'pending_approval', approval_token_hash: ticket.approval_token_hash })
      .update({ ...columns, updated_at: now });
    if (updated === 0) {
      const current = await findTicket(trx, id);
      if (current?.status === 'pending_approval') throw conflict('A new review link was sent a moment ago.');
      throw await raceLost(trx, id);
    }
    await insertEvent(trx, { ticket_id: id, event_type: 'link_resent', actor_user_id: actor.id, created_at: now });
    await notifyReviewNeeded(
      trx,
      ticket,
      await itemsFor(trx, [id]),
      reviewUrl(settings.appUrl, id, token),
      'review_link_resent',
      undefined,
      replyAddressFor(settings, id),
    );
  });
  return { assignee: ticket.assigned_to_username };
}
