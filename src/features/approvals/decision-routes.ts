import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../../http/context.ts';
import { refusalAsFlash } from '../../http/forms.ts';
import { requireUser } from '../../http/guards.ts';
import { audienceOf, respond } from '../../http/respond.ts';
import { parseWith, validBody } from '../../http/validate.ts';
import { idParam } from '../../lib/schema.ts';
import { ticketPageFor } from '../tickets/pages.ts';
import { presentTicket } from '../tickets/presenter.ts';
import { changeStatus, getTicketDetail, type Settings } from '../tickets/service.ts';
import { STATUS_LABELS } from '../tickets/states.ts';
import { asDecision, decisionSchema } from './schema.ts';

/**
 * Deciding signed in (DESIGN.md §15): `POST /api/tickets/:id/decision {decision, reason?, items?}` and
 * the ticket page's decision form. The assignee, their delegate while they are away, or an admin; the
 * same one decision as every other way (tickets' changeStatus), so the first decision wins.
 */
export function decisionRoutes(deps: Deps): Router {
  const { db, config } = deps;
  const router = new Router();
  const settings: Settings = config;

  const decide = async (ctx: Context) => {
    const actor = requireUser(ctx);
    const { id } = parseWith(idParam, ctx.params);
    await refusalAsFlash(
      ctx,
      `/tickets/${id}`,
      async () => {
        const choice = asDecision(validBody(ctx, decisionSchema));
        const status = await changeStatus(
          db,
          actor,
          id,
          { status: choice.decision, reason: choice.reason, lines: choice.lines, source_location_id: choice.source_location_id },
          settings,
          audienceOf(ctx) === 'json' ? 'api' : null,
        );
        ctx.log.info({ ticketId: id, userId: actor.id, status }, 'decided');
        const message =
          status === choice.decision
            ? `Request ${STATUS_LABELS[status].toLowerCase()}.`
            : 'Every line was at 0, so the request was rejected.';
        if (audienceOf(ctx) === 'page') {
          respond(ctx, { redirect: `/tickets/${id}`, flash: { kind: 'success', message } });
          return;
        }
        const detail = await getTicketDetail(db, id, true);
        respond(ctx, {
          partial: 'tickets/_ticket',
          json: { message, status, ticket: presentTicket(detail.ticket, detail.items) },
          data: { ...(await ticketPageFor(deps, detail, actor)), notice: message },
        });
      },
      [400, 403, 409, 410],
    );
  };
  router.post('/tickets/:id/decision', decide);
  router.post('/api/tickets/:id/decision', decide);
  return router;
}
