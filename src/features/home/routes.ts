import Router from '@koa/router';
import { respond } from '../../http/respond.ts';

/** `/`: signed-out visitors are sent to sign in; the dashboard feature answers for signed-in users. */
export function homeRoutes(): Router {
  const router = new Router();
  router.get('/', async (ctx) => {
    if (!ctx.state.user) return ctx.redirect('/login');
    respond(ctx, { page: 'home', title: 'Home' });
  });
  return router;
}
