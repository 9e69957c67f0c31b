import Router from '@koa/router';
import { databaseIsReachable } from '../../db/index.ts';
import type { Deps } from '../../http/context.ts';

/** Liveness never touches the database (a slow database must not get the pod killed); readiness does. */
export function healthRoutes({ db }: Deps): Router {
  const router = new Router();
  router.get('/api/health', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'healthy', timestamp: new Date().toISOString() };
  });
  router.get('/api/ready', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (await databaseIsReachable(db)) {
      ctx.body = { status: 'ready', database: 'ok', timestamp: new Date().toISOString() };
    } else {
      ctx.status = 503;
      ctx.body = { error: 'The database is not reachable.', status: 'unavailable' };
    }
  });
  return router;
}
