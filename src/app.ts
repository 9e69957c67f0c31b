import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import compress from 'koa-compress';
import type { Logger } from 'pino';
import { describeApi } from './api.ts';
import type { Config } from './config.ts';
import type { Db } from './db/index.ts';
import { apiDocsRoutes } from './features/apidocs/routes.ts';
import { decisionRoutes } from './features/approvals/decision-routes.ts';
import { emailReplyRoutes, INBOUND_EMAIL_PATH_PATTERN } from './features/approvals/email-routes.ts';
import { approvalRoutes, REVIEW_PATH } from './features/approvals/routes.ts';
import { smsReplyRoutes, TWILIO_SMS_PATH_PATTERN } from './features/approvals/sms-routes.ts';
import { OidcClient } from './features/auth/oidc.ts';
import { oidcRoutes } from './features/auth/oidc-routes.ts';
import { loadPrincipal } from './features/auth/principal.ts';
import { authRoutes } from './features/auth/routes.ts';
import { SESSION_COOKIE, sessionMiddleware } from './features/auth/session.ts';
import { tokenRoutes } from './features/auth/tokens-routes.ts';
import { dashboardRoutes } from './features/dashboard/routes.ts';
import { fieldRoutes } from './features/field/routes.ts';
import { healthRoutes } from './features/health/routes.ts';
import { reelRoutes } from './features/inventory/reel-routes.ts';
import { inventoryRoutes } from './features/inventory/routes.ts';
import { locationRoutes } from './features/locations/routes.ts';
import { createMetrics } from './features/metrics/registry.ts';
import { metricsRoutes } from './features/metrics/routes.ts';
import { notificationRoutes } from './features/notifications/routes.ts';
import { opticsRoutes } from './features/optics/routes.ts';
import { reportRoutes } from './features/reports/routes.ts';
import { ticketRoutes } from './features/tickets/routes.ts';
import { delegationRoutes } from './features/users/delegation-routes.ts';
import { userRoutes } from './features/users/routes.ts';
import { webhookRoutes } from './features/webhooks/routes.ts';
import { loadAssets } from './http/assets.ts';
import { compressInMemory } from './http/compress.ts';
import type { Deps } from './http/context.ts';
import { csrfProtection } from './http/csrf.ts';
import { followRedirects } from './http/follow-redirect.ts';
import { idempotency } from './http/idempotency.ts';
import { errorHandler, requestLogger, securityHeaders } from './http/middleware.ts';
import { createViews } from './http/views.ts';
import { projectRoot, publicDir, viewsDir } from './paths.ts';

const { version } = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };
let apiDocument: ReturnType<typeof describeApi> | undefined;
/** The API's OpenAPI document, built once per process on first use (src/api.ts). */
const describe = () => (apiDocument ??= describeApi(version));

/**
 * Unsafe requests never keyed by Idempotency-Key: responses that carry an access token or start a
 * session (sign-in, registration, sign-out) or show a secret once (a personal API token, a webhook's
 * signing secret) are not stored, and the webhooks (Twilio's SMS replies, SendGrid's inbound email)
 * carry their own proof instead.
 */
const NOT_KEYED = [
  /^\/(api\/)?(login|register|logout)$/,
  /^\/(settings|api)\/tokens$/,
  /^\/(admin|api)\/webhooks(\/\d+\/secret)?$/,
  TWILIO_SMS_PATH_PATTERN,
  INBOUND_EMAIL_PATH_PATTERN,
];
/** The seed's JSON review-link routes: like the review page, the token in the path is the proof. */
const REVIEW_API_PATH = /^\/api\/tickets\/\d+\/(approve|reject)\/[^/]+$/;

export interface AppOptions {
  config: Config;
  db: Db;
  logger: Logger;
  /** Tests move time for checks such as an ID token's expiry; unset: the real clock. */
  clock?: () => Date;
  /** Where the static files are (default public/): a test serves another build's files from here. */
  publicDir?: string;
}

/** Builds the Koa app without listening: `main.ts` serves it, tests drive it over real HTTP. */
export function createApp({ config, db, logger, clock, publicDir: assetsDir = publicDir }: AppOptions): Koa {
  // TRUST_PROXY trusts one hop: the client IP (rate limits) is the address that proxy appended to
  // X-Forwarded-For, not the leftmost one a client can write itself (test/auth-hardening.test.ts).
  const app = new Koa({ proxy: config.trustProxy, maxIpsCount: 1, keys: [config.secretKey] });
  const deps: Deps = {
    config,
    db,
    logger,
    views: createViews(viewsDir, config.isProduction),
    assets: loadAssets(assetsDir),
    clock,
  };
  app.context.deps = deps;
  // Errors are logged and rendered by errorHandler; Koa's own printer would only repeat them.
  app.silent = true;

  const metrics = createMetrics(db);
  app.use(requestLogger);
  app.use(metrics.timeRequests);
  // Signing out of single sign-on is a form post answered with a redirect to the provider's logout:
  // the CSP's form-action must allow the provider's origin.
  app.use(securityHeaders(config.isProduction, config.oidc ? [new URL(config.oidc.issuer).origin] : []));
  // Streams (CSV exports) through koa-compress; everything in memory in one call (src/http/compress.ts).
  app.use(compress({ threshold: 1024 }));
  app.use(compressInMemory({ threshold: 1024 }));
  app.use(errorHandler);
  // A form post from the service worker gets the page its 303 names at once (src/http/follow-redirect.ts).
  app.use(followRedirects);
  app.use(deps.assets.middleware);
  // Probes answer before sessions and body parsing: they must not depend on the session store.
  app.use(healthRoutes(deps).routes());
  app.use(metricsRoutes(deps, metrics).routes());
  app.use(sessionMiddleware(app, db, config));
  app.use(
    bodyParser({
      enableTypes: ['json', 'form'],
      jsonLimit: config.bodyLimitBytes,
      formLimit: config.bodyLimitBytes,
      parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
    }),
  );
  // Review links carry their own secret; Twilio's webhook is signed (X-Twilio-Signature) instead;
  // SendGrid's Inbound Parse posts with the inbound email secret.
  // The sign-in form's token is bound to a cookie of its own (src/http/csrf.ts), so a saved copy works.
  app.use(csrfProtection(SESSION_COOKIE, [REVIEW_PATH, TWILIO_SMS_PATH_PATTERN, INBOUND_EMAIL_PATH_PATTERN], [/^\/login$/]));
  app.use(loadPrincipal);
  app.use(idempotency({ exclude: NOT_KEYED, linkPaths: [REVIEW_PATH, REVIEW_API_PATH] }));

  // Discovered in the background now, so sign-out can reach the provider's logout; sign-in discovers
  // again (with retries) if this fails.
  const oidc = config.oidc ? new OidcClient(config.oidc, config.appUrl) : undefined;
  oidc?.warm().catch((err) => logger.warn({ err: String(err) }, 'the identity provider (OIDC_ISSUER) did not answer yet'));
  const routers = [
    authRoutes(deps, oidc),
    oidcRoutes(deps, oidc),
    tokenRoutes(deps),
    userRoutes(deps),
    delegationRoutes(deps),
    dashboardRoutes(deps),
    ticketRoutes(deps),
    approvalRoutes(deps),
    decisionRoutes(deps),
    reelRoutes(deps),
    inventoryRoutes(deps),
    locationRoutes(deps),
    opticsRoutes(deps),
    reportRoutes(deps),
    notificationRoutes(deps),
    smsReplyRoutes(deps),
    emailReplyRoutes(deps),
    fieldRoutes(deps),
    webhookRoutes(deps),
    apiDocsRoutes(deps, describe),
  ];
  const root = new Router();
  for (const router of routers) root.use(router.routes());
  app.use(root.routes());
  app.use(root.allowedMethods());
  return app;
}
