import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps, Principal } from '../../http/context.ts';
import { HttpError } from '../../http/errors.ts';
import { handleForm, refusalAsFlash } from '../../http/forms.ts';
import { requireAdmin, requireUser, safeReturnPath } from '../../http/guards.ts';
import { pageHref } from '../../http/links.ts';
import { audienceOf, type Flash, respond } from '../../http/respond.ts';
import { type Body, bodyOf, parseWith, validBody, validQuery } from '../../http/validate.ts';
import { idParam } from '../../lib/schema.ts';
import { presentOpticsEvent, presentOpticsRequest } from './presenter.ts';
import type { OpticsRequestRow } from './queries.ts';
import {
  type ListQuery,
  listQuerySchema,
  MAX_ADMIN_NOTE,
  MAX_OTHER_PART,
  MAX_PART_NUMBER,
  MAX_QUANTITY,
  MAX_REQUESTER_NAME,
  matchPart,
  parseSubmission,
  partSchema,
  statusActionSchema,
} from './schema.ts';
import {
  actOnOpticsRequest,
  addPart,
  getOpticsDetail,
  listOpticsPage,
  type OpticsSettings,
  partNumbers,
  removePart,
  submitOpticsRequest,
  suggestedRequesterName,
} from './service.ts';
import {
  ACTION_TARGET,
  actionsFor,
  OPTICS_ACTION_LABELS,
  OPTICS_BADGE,
  OPTICS_STATUS_LABELS,
  OPTICS_STATUSES,
  OTHER,
} from './states.ts';

const requestId = (ctx: Context) => parseWith(idParam, ctx.params).id;

const PAGE_SIZE = 20;
const API_PAGE_SIZE = 50;
const LIMITS = {
  quantity: MAX_QUANTITY,
  requesterName: MAX_REQUESTER_NAME,
  otherPart: MAX_OTHER_PART,
  adminNote: MAX_ADMIN_NOTE,
  partNumber: MAX_PART_NUMBER,
};

/** What every template of the feature shares. */
const common = { labels: OPTICS_STATUS_LABELS, badges: OPTICS_BADGE, actionLabels: OPTICS_ACTION_LABELS, OTHER, limits: LIMITS };

/** One request as a row on the page: the JSON shape plus the buttons this viewer gets. */
function rowView(row: OpticsRequestRow, viewer: Principal) {
  return { ...presentOpticsRequest(row), actions: viewer.role === 'admin' ? actionsFor(row.status) : [] };
}

/** The list's query string: only what differs from the defaults. */
const listHref = (base: string, q: ListQuery, cursor?: number): string =>
  pageHref(base, { status: q.status, include_archived: q.include_archived, limit: q.limit, cursor });

export function opticsRoutes(deps: Deps): Router {
  const { db, config } = deps;
  const settings: OpticsSettings = { appUrl: config.appUrl, alertEmails: config.opticsAlertEmails };
  const router = new Router();

  const listPage = async (viewer: Principal, query: ListQuery, limit: number) =>
    listOpticsPage(db, viewer, {
      status: query.status,
      includeArchived: query.include_archived,
      cursor: query.cursor,
      limit,
    });

  /** The list as the page and its "Show older" fragment render it. */
  async function listData(viewer: Principal, query: ListQuery) {
    const page = await listPage(viewer, query, query.limit ?? PAGE_SIZE);
    return {
      ...common,
      rows: page.requests.map((r) => rowView(r, viewer)),
      nextHref: page.nextCursor ? listHref('/optics', query, page.nextCursor) : undefined,
      query,
      statuses: OPTICS_STATUSES,
      returnTo: listHref('/optics', { ...query, cursor: undefined }),
      isAdmin: viewer.role === 'admin',
    };
  }

  /** The whole /optics page: the form (with `values` typed so far) and the list. */
  async function pageData(viewer: Principal, query: ListQuery, values?: Body) {
    const [parts, list, lastName] = await Promise.all([
      partNumbers(db),
      listData(viewer, query),
      values ? Promise.resolve(undefined) : suggestedRequesterName(db, viewer),
    ]);
    return { ...list, parts, values: values ?? { requester_name: lastName ?? '' }, errors: {} };
  }

  // ---- parts list ---------------------------------------------------------------------------------

  router.get('/api/optics-parts', async (ctx) => {
    requireUser(ctx);
    respond(ctx, { json: [...(await partNumbers(db)), OTHER] });
  });

  router.post('/api/optics-parts', async (ctx) => {
    const actor = requireAdmin(ctx);
    const { part_number } = validBody(ctx, partSchema);
    await addPart(db, actor, part_number);
    ctx.log.info({ part: part_number, by: actor.id }, 'optics part added');
    respond(ctx, { status: 201, json: { message: `${part_number} added`, parts: [...(await partNumbers(db)), OTHER] } });
  });

  router.delete('/api/optics-parts/:part', async (ctx) => {
    const actor = requireAdmin(ctx);
    const part = String(ctx.params.part ?? '');
    await removePart(db, actor, part);
    ctx.log.info({ part, by: actor.id }, 'optics part removed');
    respond(ctx, { json: { message: `${part} removed`, parts: [...(await partNumbers(db)), OTHER] } });
  });

  const partsPage = async (errors: Record<string, string> = {}) => ({
    ...common,
    parts: await partNumbers(db),
    values: {},
    errors,
  });

  router.get('/optics/parts', async (ctx) => {
    requireAdmin(ctx);
    respond(ctx, { page: 'optics/parts', title: 'Optics parts', data: await partsPage() });
  });

  router.post('/optics/parts', async (ctx) => {
    const actor = requireAdmin(ctx);
    await handleForm(ctx, { page: 'optics/parts', title: 'Optics parts', data: partsPage }, async () => {
      const { part_number } = validBody(ctx, partSchema);
      await addPart(db, actor, part_number);
      ctx.log.info({ part: part_number, by: actor.id }, 'optics part added');
      respond(ctx, { redirect: '/optics/parts', flash: { kind: 'success', message: `${part_number} added to the list.` } });
    });
  });

  router.post('/optics/parts/remove', async (ctx) => {
    const actor = requireAdmin(ctx);
    const part = String(bodyOf(ctx).part_number ?? '');
    let flash: Flash = { kind: 'success', message: `${part} removed from the list. Requests already made keep it.` };
    try {
      await removePart(db, actor, part);
      ctx.log.info({ part, by: actor.id }, 'optics part removed');
    } catch (err) {
      if (!(err instanceof HttpError) || err.status !== 404) throw err;
      flash = { kind: 'error', message: err.message };
    }
    respond(ctx, { redirect: '/optics/parts', flash });
  });

  // ---- the page and its form ----------------------------------------------------------------------

  router.get('/optics', async (ctx) => {
    const viewer = requireUser(ctx);
    const query = validQuery(ctx, listQuerySchema);
    if (audienceOf(ctx) === 'partial') {
      respond(ctx, { page: 'optics/_list', data: { ...(await listData(viewer, query)), append: Boolean(query.cursor) } });
      return;
    }
    const data = await pageData(viewer, query);
    respond(ctx, { page: 'optics/page', title: 'Optics', json: data.rows.map(({ actions: _, ...r }) => r), data });
  });

  /** The "Other part number" field, for htmx when the part select changes (empty unless Other). */
  router.get('/optics/other-part-field', async (ctx) => {
    requireUser(ctx);
    const chosen = matchPart(ctx.query.selected_part, []);
    respond(ctx, {
      page: 'optics/_other_part',
      data: { ...common, show: chosen === OTHER, fallback: false, values: {}, errors: {} },
    });
  });

  router.post(['/optics', '/api/optics-requests'], async (ctx) => {
    const requester = requireUser(ctx);
    const body = bodyOf(ctx);
    const json = audienceOf(ctx) === 'json';
    const formData = () => pageData(requester, parseWith(listQuerySchema, {}), body);
    await handleForm(ctx, { page: 'optics/page', title: 'Optics', data: formData }, async () => {
      const input = parseSubmission(body, await partNumbers(db));
      const request = await submitOpticsRequest(db, requester, input, settings);
      ctx.log.info({ opticsRequestId: request.id, userId: requester.id }, 'optics request submitted');
      if (json) {
        ctx.set('Location', `/api/optics-requests/${request.id}`);
        respond(ctx, {
          status: 201,
          json: { message: 'Optics request submitted', optics_request: presentOpticsRequest(request) },
        });
        return;
      }
      respond(ctx, {
        redirect: '/optics',
        flash: { kind: 'success', message: `Optics request #${request.id} sent: an admin will approve or deny it.` },
      });
    });
  });

  // ---- the JSON API -------------------------------------------------------------------------------

  router.get('/api/optics-requests', async (ctx) => {
    const viewer = requireUser(ctx);
    const query = validQuery(ctx, listQuerySchema);
    const page = await listPage(viewer, query, query.limit ?? API_PAGE_SIZE);
    if (page.nextCursor) ctx.set('Link', `<${listHref('/api/optics-requests', query, page.nextCursor)}>; rel="next"`);
    respond(ctx, { json: page.requests.map(presentOpticsRequest) });
  });

  router.get('/api/optics-requests/:id', async (ctx) => {
    const viewer = requireUser(ctx);
    const { request, events } = await getOpticsDetail(db, viewer, requestId(ctx));
    respond(ctx, { json: { ...presentOpticsRequest(request), events: events.map(presentOpticsEvent) } });
  });

  router.patch('/api/optics-requests/:id/status', async (ctx) => {
    const actor = requireAdmin(ctx);
    const id = requestId(ctx);
    const { action, admin_note } = validBody(ctx, statusActionSchema);
    const request = await actOnOpticsRequest(db, actor, id, action, admin_note, settings);
    ctx.log.info({ opticsRequestId: id, action, by: actor.id }, 'optics request updated');
    respond(ctx, {
      json: {
        message: `Optics request ${OPTICS_STATUS_LABELS[ACTION_TARGET[action]].toLowerCase()}`,
        optics_request: presentOpticsRequest(request),
      },
    });
  });

  // ---- one request, and the admin buttons ---------------------------------------------------------

  router.get('/optics/:id', async (ctx) => {
    const viewer = requireUser(ctx);
    const { request, events } = await getOpticsDetail(db, viewer, requestId(ctx));
    const row = rowView(request, viewer);
    respond(ctx, {
      page: 'optics/request',
      partial: 'optics/_row',
      title: `Optics request #${request.id}`,
      json: { ...presentOpticsRequest(request), events: events.map(presentOpticsEvent) },
      data: { ...common, row, events: events.map(presentOpticsEvent), returnTo: `/optics/${request.id}` },
    });
  });

  /**
   * Approve / deny / archive from the page. Without JavaScript: 303 back with a flash (the refusal
   * too). htmx: the row again, updated in place, with the outcome beside the buttons; a refusal
   * (400, 409) keeps its status code and shows the row as it now is.
   */
  router.post('/optics/:id/status', async (ctx) => {
    const actor = requireUser(ctx);
    const id = requestId(ctx);
    const body = bodyOf(ctx);
    const audience = audienceOf(ctx);
    const returnTo = safeReturnPath(body.return_to, '/optics');
    await refusalAsFlash(
      ctx,
      returnTo,
      async () => {
        try {
          const { action, admin_note } = validBody(ctx, statusActionSchema);
          const request = await actOnOpticsRequest(db, actor, id, action, admin_note, settings);
          const message = `Request #${id} ${OPTICS_STATUS_LABELS[request.status].toLowerCase()}.`;
          ctx.log.info({ opticsRequestId: id, action, by: actor.id }, 'optics request updated');
          respond(ctx, {
            redirect: audience === 'page' ? returnTo : undefined,
            flash: audience === 'page' ? { kind: 'success', message } : undefined,
            page: 'optics/_row',
            json: { message, optics_request: presentOpticsRequest(request) },
            data: { ...common, row: rowView(request, actor), notice: message, returnTo },
          });
        } catch (err) {
          if (!(err instanceof HttpError) || audience !== 'partial' || (err.status !== 400 && err.status !== 409)) throw err;
          const { request } = await getOpticsDetail(db, actor, id);
          respond(ctx, {
            status: err.status,
            page: 'optics/_row',
            data: { ...common, row: rowView(request, actor), error: err.message, returnTo },
          });
        }
      },
      [400, 403, 404, 409],
    );
  });

  return router;
}
