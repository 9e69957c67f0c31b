import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../../http/context.ts';
import { notFound } from '../../http/errors.ts';
import { requireAdmin, requireUser } from '../../http/guards.ts';
import { respond } from '../../http/respond.ts';
import { parseWith, validBody } from '../../http/validate.ts';
import { idParam } from '../../lib/schema.ts';
import { presentUser } from './presenter.ts';
import { findUserById, listUsers } from './queries.ts';
import { roleChangeSchema } from './schema.ts';
import { changeRole } from './service.ts';

export function userRoutes({ db }: Deps): Router {
  const router = new Router();

  router.get('/api/users', async (ctx) => {
    const viewer = requireUser(ctx);
    const users = await listUsers(db);
    respond(ctx, { json: users.map((u) => presentUser(u, viewer)) });
  });

  router.get('/api/users/:id', async (ctx) => {
    const viewer = requireUser(ctx);
    const { id } = parseWith(idParam, ctx.params);
    const user = await findUserById(db, id);
    if (!user) throw notFound('No user with that id.');
    respond(ctx, { json: presentUser(user, viewer) });
  });

  router.get('/admin/users', async (ctx) => {
    const viewer = requireAdmin(ctx);
    const users = await listUsers(db);
    respond(ctx, {
      page: 'admin/users',
      title: 'Users',
      json: users.map((u) => presentUser(u, viewer)),
      data: { users: users.map((u) => presentUser(u, viewer)), values: {}, errors: {} },
    });
  });

  const setRole = async (ctx: Context) => {
    requireAdmin(ctx);
    const { id } = parseWith(idParam, ctx.params);
    const { role } = validBody(ctx, roleChangeSchema);
    const user = await changeRole(db, id, role);
    ctx.log.info({ userId: id, role, by: ctx.state.user?.id }, 'role changed');
    respond(ctx, {
      json: presentUser(user, ctx.state.user),
      redirect: '/admin/users',
      flash: { kind: 'success', message: `${user.username} is now ${role === 'admin' ? 'an admin' : 'a user'}.` },
    });
  };
  router.post('/admin/users/:id/role', setRole);
  router.patch('/api/users/:id/role', setRole);

  return router;
}
