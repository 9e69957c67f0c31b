import Router from '@koa/router';
import { databaseIsReachable, schemaIsCurrent } from '../../db/index.ts';
import type { Deps } from '../../http/context.ts';

/**
 * Liveness never touches the database (a slow database must not get the pod killed); readiness does,
 * and also waits for the schema: a process started before its migrations ran (MIGRATE_ON_START=false,
 * the migration Job still running) takes no traffic until they are in. Once current, the schema is
 * not asked again.
 */
export function healthRoutes({ db }: Deps): Router {
  const router = new Router();
  let schemaCurrent = false;
  router.get('/api/health', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'healthy', timestamp: new Date().toISOString() };
  });
  router.get('/api/ready', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (!(await databaseIsReachable(db))) {
      ctx.status = 503;
      ctx.body = { error: 'The database is not reachable.', status: 'unavailable' };
      return;
    }
    schemaCurrent ||= await schemaIsCurrent(db);
    if (!schemaCurrent) {
      ctx.status = 503;
      ctx.body = { error: 'The database schema is older than this version: migrations are pending.', status: 'migrating' };
      return;
    }
    ctx.body = { status: 'ready', database: 'ok', timestamp: new Date().toISOString() };
  });
  return router;
}
