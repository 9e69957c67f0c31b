import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps, Principal } from '../../http/context.ts';
import { badRequest, HttpError } from '../../http/errors.ts';
import { formItems, handleForm, respondItemRow, rowEdit } from '../../http/forms.ts';
import { requireUser } from '../../http/guards.ts';
import { audienceOf, respond } from '../../http/respond.ts';
import { parseWith, validBody, validQuery } from '../../http/validate.ts';
import { idParam } from '../../lib/schema.ts';
import { type ItemStock, stockForItems } from '../inventory/service.ts';
import { findUserByUsername } from '../users/queries.ts';
import { listAccounts, suggestAccounts } from '../users/service.ts';
import { allowedActions, canMoveTo } from './policy.ts';
import { presentTicket } from './presenter.ts';
import { hasEditFields, includeDeletedQuery, parseNewTicket, parseTicketEdit, statusChangeSchema } from './schema.ts';
import {
  assertEditable,
  changeStatus,
  createTicket,
  deleteTicket,
  editTicket,
  getTicketDetail,
  purgeTicket,
  resendReviewLink,
  restoreTicket,
  type Settings,
  type TicketDetail,
} from './service.ts';
import { ACTION_LABELS, canStillBeFulfilled, nextStatuses, PRIORITIES, STATUS_LABELS, type Status } from './states.ts';

type Body = Record<string, unknown>;
const bodyOf = (ctx: Context): Body => (ctx.request.body ?? {}) as Body;
const ticketId = (ctx: Context) => parseWith(idParam, ctx.params).id;

/** What the ticket page and its htmx fragment render. */
export function ticketPageData(detail: TicketDetail, viewer: Principal, stock: ItemStock[] = []) {
  const { ticket, items, events } = detail;
  return {
    ticket: presentTicket(ticket, items, events),
    /** On hand per item (same order), so whoever approves sees a shortfall first. */
    stock,
    /** A shortfall is worth flagging only while the request can still be fulfilled. */
    flagShort: canStillBeFulfilled(ticket.status),
    actions: allowedActions(viewer, ticket),
    moves: nextStatuses(ticket.status)
      .filter((status) => canMoveTo(viewer, ticket, status))
      .map((status) => ({ status, label: ACTION_LABELS[status] })),
    labels: STATUS_LABELS,
  };
}

/**
 * Up to this many accounts, the request form lists them all to choose the assignee from. Past it (a
 * list of hundreds is slow to render, heavy on phone data and useless to scroll), it has a name field
 * instead, with suggestions as you type (htmx; without JavaScript the whole username is typed).
 */
export const ASSIGNEE_CHOICES_MAX = 100;
/** Suggestions shown under the assignee's name field. */
const ASSIGNEE_SUGGESTIONS = 20;

export async function newTicketFormData(deps: Deps, body: Body = {}, extra = 0, remove?: number) {
  const users = await listAccounts(deps.db, ASSIGNEE_CHOICES_MAX + 1);
  const byName = users.length > ASSIGNEE_CHOICES_MAX;
  return {
    users: byName ? [] : users,
    assigneeByName: byName,
    priorities: PRIORITIES,
    items: formItems(body, extra, remove),
    values: body,
    errors: {},
  };
}

export function ticketRoutes(deps: Deps): Router {
  const { db, config } = deps;

  /**
   * The form's assignee name field (many accounts) as the assigned_to_id the rest of the code takes.
   * A form that sent an id (the list) is left alone; JSON bodies send assigned_to_id. A form's fields
   * asking for a JSON answer (the offline queue, public/queue.js) are a form: the name is looked up.
   */
  const withAssigneeId = async (ctx: Context, body: Body): Promise<Body> => {
    const name = body.assignee_name;
    const hasId = body.assigned_to_id !== undefined && body.assigned_to_id !== '';
    const jsonBody = audienceOf(ctx) === 'json' && !ctx.request.is('urlencoded');
    if (jsonBody || typeof name !== 'string' || hasId) return body;
    if (!name.trim()) return { ...body, assigned_to_id: '' }; // as the list's "Choose…": a missing assignee
    const user = await findUserByUsername(db, name);
    if (!user) {
      const sentence = `no account is called "${name.trim().slice(0, 100)}"`;
      throw badRequest(`assigned_to_id: ${sentence}`, { assigned_to_id: sentence });
    }
    return { ...body, assigned_to_id: user.id };
  };
  // The service's Settings are these fields of the configuration.
  const settings: Settings = config;
  const router = new Router();

  /**
   * Runs a button's action. Without JavaScript, a refused action (403/409) returns to the ticket page
   * with the sentence as a flash; htmx and JSON clients get the error itself.
   */
  const ticketAction = async (ctx: Context, id: number, action: () => Promise<void>) => {
    try {
      await action();
    } catch (err) {
      if (audienceOf(ctx) !== 'page' || !(err instanceof HttpError) || (err.status !== 403 && err.status !== 409)) throw err;
      respond(ctx, { redirect: `/tickets/${id}`, flash: { kind: 'error', message: err.message } });
    }
  };

  /** After a change: a browser goes back to the ticket (303), htmx gets the fresh fragment, JSON the ticket. */
  const afterChange = async (ctx: Context, id: number, message: string) => {
    const viewer = requireUser(ctx);
    if (audienceOf(ctx) === 'page') {
      respond(ctx, { redirect: `/tickets/${id}`, flash: { kind: 'success', message } });
      return;
    }
    const detail = await getTicketDetail(db, id, true);
    respond(ctx, {
      partial: 'tickets/_ticket',
      json: { message, ticket: presentTicket(detail.ticket, detail.items) },
      data: { ...ticketPageData(detail, viewer, await stockForItems(db, detail.items)), notice: message },
    });
  };

  // ---- the request form -------------------------------------------------------------------------

  router.get('/tickets/new', async (ctx) => {
    requireUser(ctx);
    respond(ctx, { page: 'tickets/new', title: 'New request', data: await newTicketFormData(deps) });
  });

  /** One more blank item row, for htmx's "Add item" (the no-JS form posts back instead). */
  router.get('/tickets/new/item-row', async (ctx) => {
    requireUser(ctx);
    respondItemRow(ctx, 'tickets/_item_row');
  });

  /** Accounts whose name starts with what was typed in the assignee field: `<option>`s for its datalist. */
  router.get('/tickets/new/assignees', async (ctx) => {
    requireUser(ctx);
    const typed = typeof ctx.query.assignee_name === 'string' ? ctx.query.assignee_name.slice(0, 100) : '';
    respond(ctx, { page: 'tickets/_assignees', data: { users: await suggestAccounts(db, typed, ASSIGNEE_SUGGESTIONS) } });
  });

  router.post(['/tickets', '/api/tickets'], async (ctx) => {
    const creator = requireUser(ctx);
    const body = bodyOf(ctx);
    // Without JavaScript, "Add item" and "Remove" submit the form: show it again with the rows changed.
    const rows = audienceOf(ctx) === 'json' ? undefined : rowEdit(body);
    if (rows) {
      respond(ctx, {
        page: 'tickets/new',
        title: 'New request',
        data: await newTicketFormData(deps, body, rows.extra, rows.remove),
      });
      return;
    }
    const formData = () => newTicketFormData(deps, body);
    await handleForm(ctx, { page: 'tickets/new', title: 'New request', data: formData }, async () => {
      const input = parseNewTicket(await withAssigneeId(ctx, body));
      const { id, ticket, items } = await createTicket(db, creator, input, settings);
      ctx.log.info({ ticketId: id, userId: creator.id }, 'ticket created');
      if (audienceOf(ctx) === 'json') {
        ctx.set('Location', `/api/tickets/${id}`);
        respond(ctx, { status: 201, json: { message: 'Ticket created', ticket: presentTicket(ticket, items) } });
        return;
      }
      respond(ctx, { redirect: `/tickets/${id}`, flash: { kind: 'success', message: `Request #${id} sent for approval.` } });
    });
  });

  // ---- one ticket -------------------------------------------------------------------------------

  router.get('/tickets/:id', async (ctx) => {
    const viewer = requireUser(ctx);
    const id = ticketId(ctx);
    const { include_deleted } = validQuery(ctx, includeDeletedQuery);
    const detail = await getTicketDetail(db, id, include_deleted);
    respond(ctx, {
      page: 'tickets/page',
      partial: 'tickets/_ticket',
      title: `Ticket #${id}`,
      data: ticketPageData(detail, viewer, await stockForItems(db, detail.items)),
    });
  });

  router.get('/api/tickets/:id', async (ctx) => {
    requireUser(ctx);
    const id = ticketId(ctx);
    const { include_deleted } = validQuery(ctx, includeDeletedQuery);
    const detail = await getTicketDetail(db, id, include_deleted);
    respond(ctx, { json: presentTicket(detail.ticket, detail.items, detail.events) });
  });

  /** The edit form for a ticket the viewer may edit now; 403/409/410 otherwise. */
  const editForm = async (ctx: Context, id: number, body?: Body, extra = 0, remove?: number) => {
    const viewer = requireUser(ctx);
    const detail = await getTicketDetail(db, id, false);
    assertEditable(viewer, detail.ticket);
    const ticket = presentTicket(detail.ticket, detail.items);
    const current = { ...ticket, items: ticket.items, assignee_name: ticket.assigned_to.username };
    const form = await newTicketFormData(deps, body ?? current, extra, remove);
    return { page: 'tickets/edit', title: `Edit #${id}`, data: { ...form, ticket } };
  };

  router.get('/tickets/:id/edit', async (ctx) => {
    respond(ctx, await editForm(ctx, ticketId(ctx)));
  });

  router.post('/tickets/:id/edit', async (ctx) => {
    const actor = requireUser(ctx);
    const id = ticketId(ctx);
    const body = bodyOf(ctx);
    await ticketAction(ctx, id, async () => {
      const rows = rowEdit(body);
      if (rows) {
        respond(ctx, await editForm(ctx, id, body, rows.extra, rows.remove));
        return;
      }
      const form = { page: 'tickets/edit', title: `Edit #${id}`, data: async () => (await editForm(ctx, id, body)).data };
      await handleForm(ctx, form, async () => {
        await editTicket(db, actor, id, parseTicketEdit(await withAssigneeId(ctx, body)), settings);
        respond(ctx, { redirect: `/tickets/${id}`, flash: { kind: 'success', message: 'Request updated.' } });
      });
    });
  });

  /** The seed's PATCH: a status change (with an optional reason) or an edit of fields and items. */
  router.patch('/api/tickets/:id', async (ctx) => {
    const actor = requireUser(ctx);
    const id = ticketId(ctx);
    const body = bodyOf(ctx);
    if (body.status !== undefined) {
      const change = validBody(ctx, statusChangeSchema);
      if (hasEditFields(body)) {
        ctx.throw(400, 'Change the status or edit fields, not both in one request.');
      }
      await changeStatus(
        db,
        actor,
        id,
        { status: change.status as Status, reason: change.rejection_reason ?? change.reason ?? change.note },
        settings,
        'api',
      );
      await afterChange(ctx, id, `Status changed to ${STATUS_LABELS[change.status as Status].toLowerCase()}.`);
      return;
    }
    if (!hasEditFields(body)) ctx.throw(400, 'Send a status, or fields to edit.');
    await editTicket(db, actor, id, parseTicketEdit(body), settings);
    await afterChange(ctx, id, 'Ticket updated.');
  });

  router.post('/tickets/:id/status', async (ctx) => {
    const actor = requireUser(ctx);
    const id = ticketId(ctx);
    const change = validBody(ctx, statusChangeSchema);
    const status = change.status as Status;
    await ticketAction(ctx, id, async () => {
      await changeStatus(db, actor, id, { status, reason: change.reason ?? change.rejection_reason ?? change.note }, settings);
      await afterChange(ctx, id, `Status changed to ${STATUS_LABELS[status].toLowerCase()}.`);
    });
  });

  router.post('/tickets/:id/delete', async (ctx) => {
    const actor = requireUser(ctx);
    const id = ticketId(ctx);
    await ticketAction(ctx, id, async () => {
      await deleteTicket(db, actor, id);
      respond(ctx, {
        redirect: `/tickets/${id}?include_deleted=true`,
        flash: { kind: 'success', message: `Ticket #${id} deleted. You can restore it here.` },
      });
    });
  });

  router.delete('/api/tickets/:id', async (ctx) => {
    const actor = requireUser(ctx);
    await deleteTicket(db, actor, ticketId(ctx));
    respond(ctx, { json: { message: 'Ticket deleted' } });
  });

  /** A fresh review link to the assignee by email and SMS (the old one stops working). */
  router.post(['/tickets/:id/review-link', '/api/tickets/:id/review-link'], async (ctx) => {
    const actor = requireUser(ctx);
    const id = ticketId(ctx);
    await ticketAction(ctx, id, async () => {
      const { assignee } = await resendReviewLink(db, actor, id, settings);
      ctx.log.info({ ticketId: id, by: actor.id }, 'review link sent again');
      await afterChange(ctx, id, `A new review link is on its way to ${assignee}.`);
    });
  });

  router.post(['/tickets/:id/restore', '/api/tickets/:id/restore'], async (ctx) => {
    const actor = requireUser(ctx);
    const id = ticketId(ctx);
    await ticketAction(ctx, id, async () => {
      await restoreTicket(db, actor, id);
      await afterChange(ctx, id, 'Ticket restored.');
    });
  });

  const purge = async (ctx: Context) => {
    const actor = requireUser(ctx);
    const id = ticketId(ctx);
    await ticketAction(ctx, id, async () => {
      await purgeTicket(db, actor, id);
      ctx.log.warn({ ticketId: id, by: actor.id }, 'ticket purged');
      respond(ctx, {
        json: { message: 'Ticket purged' },
        redirect: '/',
        flash: { kind: 'success', message: `Ticket #${id} purged for good.` },
      });
    });
  };
  router.post('/tickets/:id/purge', purge);
  router.delete('/api/tickets/:id/purge', purge);

  return router;
}
