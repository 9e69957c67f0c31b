import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../../http/context.ts';
import { badRequest, forbidden } from '../../http/errors.ts';
import { handleForm, refusalAsFlash, respondItemRow, rowEdit } from '../../http/forms.ts';
import { requireUser } from '../../http/guards.ts';
import { audienceOf, respond } from '../../http/respond.ts';
import { type Body, bodyOf, parseWith, validBody, validQuery } from '../../http/validate.ts';
import { csvStream } from '../../lib/csv.ts';
import { idParam } from '../../lib/schema.ts';
import { offerToDelegate } from '../approvals/service.ts';
import { type CutChoice, cutsPending, keepOffcutOf } from '../inventory/service.ts';
import { findUserByUsername, suggestAccounts } from '../users/service.ts';
import { fulfilPageFor, listHref, newTicketFormData, PAGE_SIZES, ticketJsonFor, ticketLists, ticketPageFor } from './pages.ts';
import { canChangeStatus, canDelete } from './policy.ts';
import { presentTicket, TICKETS_CSV_HEADER, ticketCsvCells } from './presenter.ts';
import {
  fulfilSchema,
  hasEditFields,
  includeDeletedQuery,
  keepOffcutSchema,
  listQuerySchema,
  parseNewTicket,
  parseTicketEdit,
  statusChangeSchema,
} from './schema.ts';
import {
  assertEditable,
  changeStatus,
  createTicket,
  deleteTicket,
  editTicket,
  exportTicketRows,
  getTicketDetail,
  purgeTicket,
  resendReviewLink,
  restoreTicket,
  type Settings,
} from './service.ts';
import { STATUS_LABELS, type Status } from './states.ts';

const ticketId = (ctx: Context) => parseWith(idParam, ctx.params).id;

/** Suggestions shown under the assignee's name field. */
const ASSIGNEE_SUGGESTIONS = 20;

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

  /**
   * A request for someone who is away goes to their delegate at once. Its own transaction: a failure
   * here leaves the request filed, and the approvals' timed follow-ups offer it at their next run.
   */
  const offerIfAway = async (ctx: Context, id: number, assigneeId?: number) => {
    try {
      if (await offerToDelegate(db, id, config, new Date(), assigneeId))
        ctx.log.info({ ticketId: id }, 'request offered to a delegate');
    } catch (err) {
      ctx.log.error({ err, ticketId: id }, 'offering the request to a delegate failed; the follow-ups will');
    }
  };
  const router = new Router();

  /** A button's action: without JavaScript a refusal (403, 409) is a flash back on the ticket page. */
  const ticketAction = (ctx: Context, id: number, action: () => Promise<void>) => refusalAsFlash(ctx, `/tickets/${id}`, action);

  /** After a change: a browser goes back to the ticket (303), htmx gets the fresh fragment, JSON the ticket. */
  const afterChange = async (ctx: Context, id: number, message: string) => {
    const viewer = requireUser(ctx);
    if (audienceOf(ctx) === 'page') {
      respond(ctx, { redirect: `/tickets/${id}`, flash: { kind: 'success', message } });
      return;
    }
    const detail = await getTicketDetail(db, id, true);
    if (audienceOf(ctx) === 'json') {
      // The answer carries the cuts a fulfilment made and the offcuts they left, as GET does.
      respond(ctx, { json: { message, ticket: await ticketJsonFor(deps, detail, viewer) } });
      return;
    }
    respond(ctx, { partial: 'tickets/_ticket', data: { ...(await ticketPageFor(deps, detail, viewer)), notice: message } });
  };

  // ---- the request form -------------------------------------------------------------------------

  router.get('/tickets/new', async (ctx) => {
    const viewer = requireUser(ctx);
    respond(ctx, { page: 'tickets/new', title: 'New request', data: await newTicketFormData(deps, {}, 0, undefined, viewer.id) });
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
        data: await newTicketFormData(deps, body, rows.extra, rows.remove, creator.id),
      });
      return;
    }
    const formData = () => newTicketFormData(deps, body, 0, undefined, creator.id);
    await handleForm(ctx, { page: 'tickets/new', title: 'New request', data: formData }, async () => {
      const input = parseNewTicket(await withAssigneeId(ctx, body));
      const { id, ticket, items, assigneeAway } = await createTicket(db, creator, input, settings);
      ctx.log.info({ ticketId: id, userId: creator.id }, 'ticket created');
      if (assigneeAway) await offerIfAway(ctx, id);
      if (audienceOf(ctx) === 'json') {
        ctx.set('Location', `/api/tickets/${id}`);
        respond(ctx, { status: 201, json: { message: 'Ticket created', ticket: presentTicket(ticket, items) } });
        return;
      }
      respond(ctx, { redirect: `/tickets/${id}`, flash: { kind: 'success', message: `Request #${id} sent for approval.` } });
    });
  });

  // ---- the list (the dashboard shows it as a page) ---------------------------------------------

  const lists = ticketLists(deps);
  router.get('/api/tickets', async (ctx) => {
    requireUser(ctx);
    const query = validQuery(ctx, listQuerySchema);
    await lists.answer(ctx, query, query.limit ?? PAGE_SIZES.api, (page) => {
      if (page.nextCursor) ctx.set('Link', `<${listHref('/api/tickets', query, page.nextCursor)}>; rel="next"`);
      respond(ctx, { json: page.tickets.map(({ ticket, items }) => presentTicket(ticket, items)) });
    });
  });

  // The list's filters as a CSV of every matching ticket, one line per item (the dashboard links it).
  router.get('/tickets.csv', async (ctx) => {
    const viewer = requireUser(ctx);
    const query = validQuery(ctx, listQuerySchema);
    const rows = exportTicketRows(db, {
      viewerId: viewer.id,
      filter: query.filter,
      status: query.status,
      q: query.q,
      includeDeleted: query.include_deleted,
    });
    ctx.set('Content-Disposition', `attachment; filename="requests-${new Date().toISOString().slice(0, 10)}.csv"`);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'text/csv; charset=utf-8';
    ctx.body = csvStream(TICKETS_CSV_HEADER, rows, ticketCsvCells);
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
      data: await ticketPageFor(deps, detail, viewer),
    });
  });

  router.get('/api/tickets/:id', async (ctx) => {
    const viewer = requireUser(ctx);
    const id = ticketId(ctx);
    const { include_deleted } = validQuery(ctx, includeDeletedQuery);
    const detail = await getTicketDetail(db, id, include_deleted);
    respond(ctx, { json: await ticketJsonFor(deps, detail, viewer, detail.events) });
  });

  /** The edit form for a ticket the viewer may edit now; 403/409/410 otherwise. */
  const editForm = async (ctx: Context, id: number, body?: Body, extra = 0, remove?: number) => {
    const viewer = requireUser(ctx);
    const detail = await getTicketDetail(db, id, false);
    assertEditable(viewer, detail.ticket);
    const ticket = presentTicket(detail.ticket, detail.items);
    const current = { ...ticket, items: ticket.items, assignee_name: ticket.assigned_to.username };
    const form = await newTicketFormData(deps, body ?? current, extra, remove, viewer.id);
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
        const edited = await editTicket(db, actor, id, parseTicketEdit(await withAssigneeId(ctx, body)), settings);
        if (edited.reviewUrl) await offerIfAway(ctx, id);
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
        { status: change.status as Status, reason: change.rejection_reason ?? change.reason ?? change.note, cuts: change.cuts },
        settings,
        'api',
      );
      await afterChange(ctx, id, `Status changed to ${STATUS_LABELS[change.status as Status].toLowerCase()}.`);
      return;
    }
    if (!hasEditFields(body)) ctx.throw(400, 'Send a status, or fields to edit.');
    const edited = await editTicket(db, actor, id, parseTicketEdit(body), settings);
    if (edited.reviewUrl) await offerIfAway(ctx, id);
    await afterChange(ctx, id, 'Ticket updated.');
  });

  router.post('/tickets/:id/status', async (ctx) => {
    const actor = requireUser(ctx);
    const id = ticketId(ctx);
    const change = validBody(ctx, statusChangeSchema);
    const status = change.status as Status;
    await ticketAction(ctx, id, async () => {
      // Cutting from reels: a browser first sees the proposed reel per cut, and may change them.
      if (status === 'fulfilled' && !change.cuts && audienceOf(ctx) !== 'json' && (await cutsPending(db, id))) {
        respond(ctx, { redirect: `/tickets/${id}/fulfil` });
        return;
      }
      await changeStatus(
        db,
        actor,
        id,
        { status, reason: change.reason ?? change.rejection_reason ?? change.note, cuts: change.cuts },
        settings,
      );
      await afterChange(ctx, id, `Status changed to ${STATUS_LABELS[status].toLowerCase()}.`);
    });
  });

  // ---- fulfilling with cuts from reels ----------------------------------------------------------

  /** The fulfilment page: the proposed reel per cut (the choices sent, best fit for the rest). */
  const fulfilView = async (ctx: Context, id: number, choices: CutChoice[] = []) => {
    const viewer = requireUser(ctx);
    const detail = await getTicketDetail(db, id, false);
    return {
      page: 'tickets/fulfil',
      title: `Fulfil #${id}`,
      data: await fulfilPageFor(deps, detail, viewer, choices),
    };
  };

  router.get('/tickets/:id/fulfil', async (ctx) => {
    respond(ctx, await fulfilView(ctx, ticketId(ctx)));
  });

  router.post('/tickets/:id/fulfil', async (ctx) => {
    const actor = requireUser(ctx);
    const id = ticketId(ctx);
    await ticketAction(ctx, id, async () => {
      const change = validBody(ctx, fulfilSchema);
      const choices = change.cuts ?? [];
      const form = {
        page: 'tickets/fulfil',
        title: `Fulfil #${id}`,
        data: async () => (await fulfilView(ctx, id, choices)).data,
      };
      await handleForm(ctx, form, async () => {
        await changeStatus(db, actor, id, { status: 'fulfilled', reason: change.note, cuts: choices }, settings);
        respond(ctx, {
          redirect: `/tickets/${id}`,
          flash: { kind: 'success', message: 'Fulfilled: each cut is recorded on its reel.' },
        });
      });
    });
  });

  /**
   * "Keep" an offcut a request's cuts left: the page and the JSON ticket stop offering it (scrapping is
   * the reel's own action). The page's form and the API share it: the assignee or an admin.
   */
  const keepOffcut = async (ctx: Context, id: number) => {
    const actor = requireUser(ctx);
    const { reel_code } = validBody(ctx, keepOffcutSchema);
    const detail = await getTicketDetail(db, id, false);
    if (!canChangeStatus(actor, detail.ticket)) throw forbidden('Only the assignee or an admin can decide about offcuts.');
    const code = await keepOffcutOf(
      db,
      actor,
      id,
      detail.items.map((i) => i.id),
      reel_code,
    );
    await afterChange(ctx, id, `Reel ${code} kept as an offcut.`);
  };

  router.post('/tickets/:id/offcuts/keep', async (ctx) => {
    const id = ticketId(ctx);
    await ticketAction(ctx, id, () => keepOffcut(ctx, id));
  });

  router.post('/api/tickets/:id/offcuts/keep', async (ctx) => {
    requireUser(ctx);
    await keepOffcut(ctx, ticketId(ctx));
  });

  /**
   * Deleting from a page asks first: on a phone the ticket page's Delete button can sit where the
   * form's "Send request" was, so a double tap on a fast link would otherwise delete the new request.
   */
  router.get('/tickets/:id/delete', async (ctx) => {
    const viewer = requireUser(ctx);
    const id = ticketId(ctx);
    const detail = await getTicketDetail(db, id, false);
    if (!canDelete(viewer, detail.ticket)) throw forbidden('Only the person who made this request or an admin can delete it.');
    respond(ctx, {
      page: 'tickets/delete',
      title: `Delete #${id}`,
      data: { ticket: presentTicket(detail.ticket, detail.items) },
    });
  });

  router.post('/tickets/:id/delete', async (ctx) => {
    const actor = requireUser(ctx);
    const id = ticketId(ctx);
    await ticketAction(ctx, id, async () => {
      await deleteTicket(db, actor, id, config);
      respond(ctx, {
        redirect: `/tickets/${id}?include_deleted=true`,
        flash: { kind: 'success', message: `Ticket #${id} deleted. You can restore it here.` },
      });
    });
  });

  router.delete('/api/tickets/:id', async (ctx) => {
    const actor = requireUser(ctx);
    await deleteTicket(db, actor, ticketId(ctx), config);
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
      await restoreTicket(db, actor, id, config);
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
