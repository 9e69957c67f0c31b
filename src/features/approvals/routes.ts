import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../../http/context.ts';
import { gone, HttpError } from '../../http/errors.ts';
import { formValues } from '../../http/forms.ts';
import { clientIp, Limiter } from '../../http/rate-limit.ts';
import { respond } from '../../http/respond.ts';
import { parseWith, validBody } from '../../http/validate.ts';
import { defaultLocation, getLocation, sourceChoices } from '../locations/service.ts';
import { presentTicket } from '../tickets/presenter.ts';
import type { Settings } from '../tickets/service.ts';
import { STATUS_LABELS } from '../tickets/states.ts';
import { asDecision, decisionSchema, linkParams, reasonSchema } from './schema.ts';
import { checkReviewLink, decideByLink, type LinkCheck } from './service.ts';

/** The path review links live under: CSRF-exempt, because the unguessable token is the proof. */
export const REVIEW_PATH = /^\/tickets\/\d+\/review\/[^/]+$/;

function reviewData(check: LinkCheck | Awaited<ReturnType<typeof decideByLink>>, path: string) {
  const { ticket, items } = check.detail;
  const decision = 'decision' in check ? check.decision : undefined;
  return {
    state: check.state,
    action: path,
    holder: check.holder,
    ticket: presentTicket(ticket, items),
    labels: STATUS_LABELS,
    decidedBy: decision?.actor_username ?? undefined,
    decidedAt: decision?.created_at ? new Date(decision.created_at).toISOString() : undefined,
    decidedVia: decision?.via ?? undefined,
  };
}

/**
 * Review links (DESIGN.md §5, §15). The page's GET changes nothing (mail scanners open every link);
 * its POST decides, with a quantity per item (approve with changes). The seed's JSON routes keep their
 * behaviour, GET included, for old clients: approve there is everything as asked.
 */
export function approvalRoutes({ db, config }: Deps): Router {
  const router = new Router();
  const limiter = new Limiter(db, 'review-link', config.rateLimitLinkPerMinute, 60);
  const settings: Settings = config;

  /** Where the request takes its cable from, and (while open) where the approver may take it from instead. */
  const sourceData = async (check: Parameters<typeof reviewData>[0]) => {
    const { ticket } = check.detail;
    const source = ticket.source_location_id
      ? await getLocation(db, Number(ticket.source_location_id))
      : await defaultLocation(db);
    const choices = check.state === 'open' ? (await sourceChoices(db, ticket.created_by_id)).choices : [];
    return { source: { id: source.id, name: source.name }, sources: choices.map((l) => ({ id: l.id, name: l.name })) };
  };

  const reviewPage = async (ctx: Context, check: Parameters<typeof reviewData>[0], status = 200, extra: object = {}) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Referrer-Policy', 'no-referrer');
    respond(ctx, {
      status,
      page: 'approvals/review',
      title: `Review request #${check.detail.ticket.id}`,
      data: { ...reviewData(check, ctx.path), ...(await sourceData(check)), ...extra },
    });
  };

  router.get('/tickets/:id/review/:token', async (ctx) => {
    const { id, token } = parseWith(linkParams, ctx.params);
    const check = await checkReviewLink(db, id, token);
    await reviewPage(ctx, check, check.state === 'expired' ? 410 : 200);
  });

  router.post('/tickets/:id/review/:token', async (ctx) => {
    const { id, token } = parseWith(linkParams, ctx.params);
    await limiter.hit(clientIp(ctx));
    try {
      const choice = asDecision(validBody(ctx, decisionSchema));
      const result = await decideByLink(db, id, token, choice, settings);
      if (result.state === 'done')
        ctx.log.info({ ticketId: id, decision: result.detail.ticket.status }, 'decided via review link');
      await reviewPage(ctx, result, result.state === 'expired' ? 410 : 200);
    } catch (err) {
      // A bad quantity or source, or not enough stock to reserve: the same page again, with what was typed and the sentence.
      if (!(err instanceof HttpError) || (err.status !== 400 && err.status !== 409)) throw err;
      const check = await checkReviewLink(db, id, token);
      await reviewPage(ctx, check, err.status, { error: err.message, values: formValues(ctx.request.body) });
    }
  });

  /** The seed's JSON link routes: 403 wrong token, 410 deleted or expired, 200 "already processed". */
  const decideJson = (decision: 'approved' | 'rejected') => async (ctx: Context) => {
    const { id, token } = parseWith(linkParams, ctx.params);
    await limiter.hit(clientIp(ctx));
    const body = ctx.method === 'POST' ? validBody(ctx, reasonSchema) : {};
    const query = parseWith(reasonSchema, { reason: ctx.query.reason });
    const reason = body.reason ?? body.rejection_reason ?? query.reason;
    const result = await decideByLink(db, id, token, { decision, reason }, settings);
    if (result.state === 'expired') throw gone('This approval link has expired.');
    if (result.state === 'decided') {
      respond(ctx, { json: { message: 'Ticket already processed', status: result.detail.ticket.status } });
      return;
    }
    ctx.log.info({ ticketId: id, decision }, 'decided via review link (JSON)');
    respond(ctx, {
      json: { message: `Ticket ${decision}`, status: decision, ticket: presentTicket(result.detail.ticket, result.detail.items) },
    });
  };
  router.get('/api/tickets/:id/approve/:token', decideJson('approved'));
  router.post('/api/tickets/:id/approve/:token', decideJson('approved'));
  router.get('/api/tickets/:id/reject/:token', decideJson('rejected'));
  router.post('/api/tickets/:id/reject/:token', decideJson('rejected'));

  return router;
}
