import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Deps } from '../../http/context.ts';
import type { AppMetrics } from './registry.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** `Authorization: Bearer <token>` equal to the expected one, compared in constant time. */
function bearerMatches(header: string, expected: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return Boolean(match?.[1]) && timingSafeEqual(digest(match?.[1] ?? ''), digest(expected));
}

/**
 * `GET /metrics` in the Prometheus text format. Mounted before sessions and sign-in (like the probes),
 * so a scrape starts no session and its bearer token is never taken for an API token. With
 * METRICS_TOKEN set, anything but that exact bearer token is a 401. In production the token is
 * required: without one /metrics is closed (403), since whoever reaches a pod could otherwise read
 * the app's traffic and queue figures.
 */
export function metricsRoutes({ config }: Deps, metrics: AppMetrics): Router {
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (config.isProduction && !config.metricsToken) {
      ctx.status = 403;
      ctx.body = { error: 'Metrics are closed: set METRICS_TOKEN to scrape them in production.' };
      return;
    }
    if (config.metricsToken && !bearerMatches(ctx.get('Authorization'), config.metricsToken)) {
      // Answered here, not thrown: the error handler would send a browser-looking 401 to the sign-in page.
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.body = { error: 'Metrics need the METRICS_TOKEN bearer token.' };
      return;
    }
    ctx.type = metrics.contentType;
    ctx.body = await metrics.scrape();
  });
  return router;
}
