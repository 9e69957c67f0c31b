import type { Context } from 'koa';
import type { Deps, Principal } from '../../http/context.ts';
import { conflict, forbidden } from '../../http/errors.ts';
import { formItems } from '../../http/forms.ts';
import { requireUser } from '../../http/guards.ts';
import { codeVersion, KeptResponses, keepResponse, sendKept } from '../../http/kept-responses.ts';
import { pageHref } from '../../http/links.ts';
import { audienceOf } from '../../http/respond.ts';
import {
  type CutChoice,
  cutsAndOffcuts,
  cutsForItems,
  fulfilmentPlan,
  type ItemStock,
  type MadeCut,
  type Offcut,
  stockForItems,
} from '../inventory/service.ts';
import { defaultLocation, getLocation, sourceChoices } from '../locations/service.ts';
import { listAccounts } from '../users/service.ts';
import { allowedActions, canChangeStatus, canMoveTo } from './policy.ts';
import { presentTicket } from './presenter.ts';
import type { ListQuery } from './schema.ts';
import { isShortSearch, SHORT_SEARCH_WINDOW } from './search.ts';
import { decidesAsDelegate, listTicketPage, resendAvailableAt, type TicketDetail } from './service.ts';
import { ACTION_LABELS, canStillBeFulfilled, nextStatuses, PRIORITIES, STATUS_LABELS, STATUSES } from './states.ts';

/**
 * What the tickets' pages and fragments render: one ticket, the request form and the list. The
 * dashboard composes its page from these, beside its own stats.
 */

type Body = Record<string, unknown>;

export interface TicketPageExtras {
  /** The viewer decides this request as the delegate of its assignee, who is away. */
  delegate?: boolean;
  /** When "Send the review link again" works; before it, the page says when instead of a button. */
  resendAt?: Date;
  now?: Date;
}

/** What the ticket page and its htmx fragment render. */
export function ticketPageData(detail: TicketDetail, viewer: Principal, stock: ItemStock[] = [], extras: TicketPageExtras = {}) {
  const { ticket, items, events } = detail;
  const now = extras.now ?? new Date();
  const actions = allowedActions(viewer, ticket);
  const decisions = ['approved', 'rejected'];
  const moves = nextStatuses(ticket.status)
    .filter((status) => canMoveTo(viewer, ticket, status) || (extras.delegate && decisions.includes(status)))
    .map((status) => ({ status, label: ACTION_LABELS[status] }));
  const resendWait = extras.resendAt ? Math.ceil((extras.resendAt.getTime() - now.getTime()) / 60_000) : 0;
  return {
    ticket: presentTicket(ticket, items, events),
    /** On hand per item (same order), so whoever approves sees a shortfall first. */
    stock,
    /** A shortfall is worth flagging only while the request can still be fulfilled. */
    flagShort: canStillBeFulfilled(ticket.status),
    actions: { ...actions, changeStatus: actions.changeStatus || Boolean(extras.delegate && moves.length) },
    moves,
    /** Pending and the viewer may decide: the decision form (a quantity per line) instead of the buttons. */
    decide: ticket.status === 'pending_approval' && moves.some((m) => m.status === 'approved'),
    decidingAsDelegate: Boolean(extras.delegate),
    /** Minutes until the review link can be sent again (0: now), and when. */
    resend: resendWait > 0 ? { minutes: resendWait, at: extras.resendAt?.toISOString() } : undefined,
    labels: STATUS_LABELS,
  };
}

/**
 * The cuts made from reels for a request's items and the offcuts they left (one statement for all
 * items, one more when there are cuts); none before fulfilment, so nothing is read then.
 */
export const reelsOfTicket = (deps: Deps, detail: TicketDetail): Promise<{ cuts: MadeCut[]; offcuts: Offcut[] }> =>
  canStillBeFulfilled(detail.ticket.status)
    ? Promise.resolve({ cuts: [], offcuts: [] })
    : cutsAndOffcuts(
        deps.db,
        detail.ticket.id,
        detail.items.map((i) => i.id),
        deps.config.reelOffcutMinMm,
      );

/** One ticket's JSON with its cuts per item, and the offcuts to keep or scrap for those who decide. */
export async function ticketJsonFor(deps: Deps, detail: TicketDetail, viewer: Principal, events?: TicketDetail['events']) {
  const reels = await reelsOfTicket(deps, detail);
  const decides = !detail.ticket.deleted_at && canChangeStatus(viewer, detail.ticket);
  return presentTicket(detail.ticket, detail.items, events, { cuts: reels.cuts, offcuts: decides ? reels.offcuts : [] });
}

/** The ticket page's data with what it reads besides the ticket: stock per item, delegation, link timing. */
export async function ticketPageFor(deps: Deps, detail: TicketDetail, viewer: Principal, now = new Date()) {
  const { ticket } = detail;
  const source = ticket.source_location_id
    ? await getLocation(deps.db, Number(ticket.source_location_id))
    : await defaultLocation(deps.db);
  const held = ticket.status === 'approved' || ticket.status === 'in_progress';
  const granted = detail.items.map((i) => ({ ...i, quantity: i.approved_quantity ?? i.quantity }));
  const [counted, delegate, fromReels] = await Promise.all([
    stockForItems(deps.db, source, granted, held),
    decidesAsDelegate(deps.db, viewer, detail.ticket, now),
    canStillBeFulfilled(ticket.status) ? cutsForItems(deps.db, ticket.id, source.id, granted, held) : Promise.resolve([]),
  ]);
  // A line cut from reels is short only when the reels are (its counted SKU may well be at 0).
  const stock = counted.map((s, n) => {
    const cut = fromReels[n];
    return cut ? { ...s, short: cut.short, cut } : s;
  });
  const resendAt = resendAvailableAt(detail.ticket, deps.config.approvalTokenTtlHours);
  const page = ticketPageData(detail, viewer, stock, { delegate, resendAt, now });
  // The approver may take the cable from elsewhere: the locations to choose from, only while deciding.
  const sources = page.decide ? (await sourceChoices(deps.db, detail.ticket.created_by_id)).choices : [];
  // Cuts exist only once a request was fulfilled; before, the page shows what will be cut instead.
  const reels = await reelsOfTicket(deps, detail);
  // Fulfilling is offered only while the request holds its cable: what it holds is what fromReels read.
  const fulfilsWithCuts = page.moves.some((m) => m.status === 'fulfilled') && fromReels.some(Boolean);
  return {
    ...page,
    source: { id: source.id, name: source.name },
    sources: sources.map((l) => ({ id: l.id, name: l.name })),
    /** Cuts made from reels for this request, and the offcuts they left to keep or scrap. */
    cuts: reels.cuts,
    offcuts: page.actions.changeStatus ? reels.offcuts : [],
    /** Scrapping is an inventory admin's action (the reel's own page and form). */
    canScrap: viewer.role === 'admin',
    /** "Mark fulfilled" opens the fulfilment page (the proposed reel per cut) instead of moving at once. */
    fulfilsWithCuts,
  };
}

/**
 * The fulfilment page of a request that cuts from reels: each piece with its proposed reel (the
 * person's `choices`, best fit for the rest), remaining before and after, and the reels to choose
 * from instead. 403 for someone who may not fulfil it, 409 when it is not in progress.
 */
export async function fulfilPageFor(deps: Deps, detail: TicketDetail, viewer: Principal, choices: CutChoice[] = []) {
  const { ticket } = detail;
  if (!canMoveTo(viewer, ticket, 'fulfilled')) throw forbidden('Only the assignee or an admin can fulfil this request.');
  if (!nextStatuses(ticket.status).includes('fulfilled'))
    throw conflict(`A ticket that is ${STATUS_LABELS[ticket.status].toLowerCase()} cannot move to fulfilled.`);
  const source = ticket.source_location_id
    ? await getLocation(deps.db, Number(ticket.source_location_id))
    : await defaultLocation(deps.db);
  const items = detail.items.map((i) => ({ ...i, quantity: i.approved_quantity ?? i.quantity }));
  const plan = await fulfilmentPlan(deps.db, { id: ticket.id, location: { id: source.id, name: source.name } }, items, choices);
  return {
    ticket: presentTicket(ticket, detail.items),
    source: { id: source.id, name: source.name },
    cuts: plan.cuts,
    problem: plan.problem,
    values: {},
    errors: {},
  };
}

/**
 * Up to this many accounts, the request form lists them all to choose the assignee from. Past it (a
 * list of hundreds is slow to render, heavy on phone data and useless to scroll), it has a name field
 * instead, with suggestions as you type (htmx; without JavaScript the whole username is typed).
 */
export const ASSIGNEE_CHOICES_MAX = 100;

/** The new-request form: what was typed (`body`), with `extra` blank item rows or row `remove` dropped. */
export async function newTicketFormData(deps: Deps, body: Body = {}, extra = 0, remove?: number, viewerId = 0) {
  const users = await listAccounts(deps.db, ASSIGNEE_CHOICES_MAX + 1);
  const byName = users.length > ASSIGNEE_CHOICES_MAX;
  const sources = await sourceChoices(deps.db, viewerId);
  return {
    sources: sources.choices.map((l) => ({
      id: l.id,
      name: l.name,
      kind: l.kind,
      mine: l.holder_user_id === viewerId && viewerId !== 0,
    })),
    sourcePreferred: sources.preferred,
    users: byName ? [] : users,
    assigneeByName: byName,
    priorities: PRIORITIES,
    items: formItems(body, extra, remove),
    values: body,
    errors: {},
  };
}

// ---- the list -----------------------------------------------------------------------------------

export { PAGE_SIZES } from './search.ts';

/** The query string for a list page: only what differs from the defaults, so URLs stay short. */
export const listHref = (base: string, q: ListQuery, cursor?: number): string =>
  pageHref(base, {
    filter: q.filter === 'all' ? undefined : q.filter,
    status: q.status,
    q: q.q,
    include_deleted: q.include_deleted,
    limit: q.limit,
    cursor,
  });

/** Memory for kept list answers: a 50-ticket JSON list is ~30 KB, the dashboard's fragment ~7 KB. */
const KEPT_LISTS_BYTES = 8 * 1024 * 1024;

export type ListPage = Awaited<ReturnType<typeof listTicketPage>>;

/** One page of the list for the viewer's query (`versioned`: as listTickets says, PostgreSQL only). */
function readPage(deps: Deps, ctx: Context, query: ListQuery, limit: number, versioned?: { known?: string }) {
  const viewer = requireUser(ctx);
  const filter = {
    viewerId: viewer.id,
    filter: query.filter,
    status: query.status,
    q: query.q,
    includeDeleted: query.include_deleted,
    cursor: query.cursor,
    limit,
  };
  return listTicketPage(deps.db, filter, versioned);
}

/** One list answerer per app: the JSON list and the dashboard's fragment share its kept answers. */
const listsOfApp = new WeakMap<Deps, TicketLists>();

export interface TicketLists {
  /** A page of the list, read afresh. */
  read(ctx: Context, query: ListQuery, limit: number): Promise<ListPage>;
  /** Answers with `render(page)`, or with the kept answer while the page is unchanged. */
  answer(ctx: Context, query: ListQuery, limit: number, render: (page: ListPage) => void): Promise<void>;
}

/**
 * The list answers (the JSON list, the dashboard's list fragment), kept with their page's version on
 * PostgreSQL and sent again while the page is unchanged (kept-responses.ts). The version covers the
 * rows, so a kept answer is right for whoever asks; its key is what else the answer depends on (the
 * audience, the query) and the viewer when the filter names them ("Created by me", "Assigned to
 * me"), so that two people's lists do not replace each other. Not in development, where templates
 * are read again at each render and a kept fragment would hide an edit. The code's hash for the
 * ETags is made here, at start-up, not in the first list request.
 */
export function ticketLists(deps: Deps): TicketLists {
  const known = listsOfApp.get(deps);
  if (known) return known;
  const kept = deps.config.env === 'development' ? undefined : new KeptResponses(KEPT_LISTS_BYTES);
  if (kept) codeVersion();
  const lists: TicketLists = {
    read: (ctx, query, limit) => readPage(deps, ctx, query, limit),
    async answer(ctx, query, limit, render) {
      if (!kept) {
        render(await readPage(deps, ctx, query, limit));
        return;
      }
      const key = `${audienceOf(ctx)} ${query.filter === 'all' ? '' : requireUser(ctx).id} ${JSON.stringify(query)}`;
      const previous = kept.get(key);
      const page = await readPage(deps, ctx, query, limit, { known: previous?.version });
      if (page.unchanged && previous) {
        sendKept(ctx, previous);
        return;
      }
      render(page);
      if (page.version) keepResponse(ctx, kept, key, page.version, ['Link']);
    },
  };
  listsOfApp.set(deps, lists);
  return lists;
}

/** What the dashboard's list fragment renders. */
export const listData = (query: ListQuery, page: ListPage) => ({
  rows: page.tickets.map(({ ticket, items }) => presentTicket(ticket, items)),
  nextHref: page.nextCursor ? listHref('/', query, page.nextCursor) : undefined,
  query,
  labels: STATUS_LABELS,
  statuses: STATUSES,
  append: Boolean(query.cursor),
  /** Every request of this filter as a CSV (not just the page). */
  csvHref: listHref('/tickets.csv', { ...query, limit: undefined, cursor: undefined }),
  shortSearchWindow: isShortSearch(query.q) ? SHORT_SEARCH_WINDOW : undefined,
});
