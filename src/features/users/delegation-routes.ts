import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../../http/context.ts';
import { badRequest } from '../../http/errors.ts';
import { handleForm } from '../../http/forms.ts';
import { requireUser } from '../../http/guards.ts';
import { respond } from '../../http/respond.ts';
import { validBody } from '../../http/validate.ts';
import { presentDelegation } from './presenter.ts';
import { findUserById, findUserByUsername } from './queries.ts';
import { type DelegationBody, delegationSchema } from './schema.ts';
import { clearDelegation, delegationOverview, setDelegation } from './service.ts';

/**
 * The signed-in user's delegation while away (DESIGN.md §15): the settings page and
 * `GET|PUT|DELETE /api/me/delegation`. Each person sets their own; an admin covers for someone who
 * could not by deciding their requests directly.
 */
export function delegationRoutes({ db }: Deps): Router {
  const router = new Router();

  const settingsView = async (ctx: Context) => {
    const user = requireUser(ctx);
    const now = new Date();
    const { mine, forOthers } = await delegationOverview(db, user.id, now);
    const current = presentDelegation(mine, now);
    return {
      page: 'users/settings',
      title: 'Settings',
      data: {
        delegation: current,
        forOthers: forOthers.map((d) => ({
          ...d,
          away_from: new Date(d.away_from).toISOString(),
          away_until: new Date(d.away_until).toISOString(),
        })),
        values: current
          ? {
              delegate: current.delegate.username,
              away_from: current.away_from.slice(0, 10),
              // The last day away: the period ends at the next midnight.
              away_until: new Date(new Date(current.away_until).getTime() - 1).toISOString().slice(0, 10),
            }
          : {},
        errors: {},
      },
    };
  };

  /** The delegate named in the body, or 400 naming the field. */
  const delegateOf = async (body: DelegationBody) => {
    const user =
      body.delegate_id !== undefined
        ? await findUserById(db, body.delegate_id)
        : await findUserByUsername(db, body.delegate ?? '');
    if (!user) {
      const sentence =
        body.delegate_id !== undefined ? 'no user with that id' : `no account is called "${(body.delegate ?? '').slice(0, 50)}"`;
      throw badRequest(`delegate: ${sentence}`, { delegate: sentence });
    }
    return user;
  };

  const save = async (ctx: Context) => {
    const user = requireUser(ctx);
    const body = validBody(ctx, delegationSchema);
    const delegate = await delegateOf(body);
    const now = new Date();
    const saved = await setDelegation(
      db,
      user.id,
      { delegate_id: delegate.id, away_from: body.away_from, away_until: body.away_until },
      now,
    );
    ctx.log.info({ userId: user.id, delegateId: delegate.id }, 'delegation set');
    return presentDelegation(saved, now);
  };

  router.get('/settings', async (ctx) => {
    respond(ctx, await settingsView(ctx));
  });

  router.post('/settings/delegation', async (ctx) => {
    requireUser(ctx);
    await handleForm(ctx, { ...(await settingsView(ctx)), data: async () => (await settingsView(ctx)).data }, async () => {
      const saved = await save(ctx);
      const message = `While you are away, ${saved?.delegate.username} decides requests assigned to you.`;
      respond(ctx, { redirect: '/settings', flash: { kind: 'success', message } });
    });
  });

  router.post('/settings/delegation/clear', async (ctx) => {
    const user = requireUser(ctx);
    await clearDelegation(db, user.id);
    respond(ctx, {
      redirect: '/settings',
      flash: { kind: 'success', message: 'No delegate: requests assigned to you stay with you.' },
    });
  });

  router.get('/api/me/delegation', async (ctx) => {
    const user = requireUser(ctx);
    const { mine } = await delegationOverview(db, user.id, new Date());
    respond(ctx, { json: { delegation: presentDelegation(mine, new Date()) } });
  });

  router.put('/api/me/delegation', async (ctx) => {
    respond(ctx, { json: { delegation: await save(ctx) } });
  });

  router.delete('/api/me/delegation', async (ctx) => {
    const user = requireUser(ctx);
    const removed = await clearDelegation(db, user.id);
    respond(ctx, { json: { message: removed ? 'Delegation removed.' : 'There was no delegation.', delegation: null } });
  });

  return router;
}
