import { createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Deps } from '../../http/context.ts';
import { requireUser } from '../../http/guards.ts';
import { codeVersion } from '../../http/kept-responses.ts';
import { renderView, respond } from '../../http/respond.ts';
import { webAppManifest } from './manifest.ts';

/** The page the service worker keeps from its install: the drafts list, also its offline page. */
const DRAFTS_PAGE = '/drafts';
/** The files the service worker keeps from its install (public/; fingerprinted names in the worker). */
const PRECACHED_ASSETS = ['app.css', 'vendor/htmx.min.js', 'js/queue.js', 'js/app.js', 'icon.svg'];
/** The worker's own code (public/), imported by /sw.js. */
const WORKER_SCRIPTS = ['js/queue.js', 'js/worker.js'];

/**
 * Field mode (DESIGN.md §14): the installable app's manifest, its service worker, the list of requests
 * queued on the phone (the worker's offline page too), and the session facts the queue needs to send.
 */
export function fieldRoutes(deps: Deps): Router {
  const router = new Router();
  const { assets } = deps;

  /**
   * The worker's settings. Its version names the code and every file it keeps (their fingerprints),
   * so a deploy that changes any of them changes /sw.js's bytes: the browser installs the new worker,
   * which keeps the new files and drops the old ones.
   */
  let workerSettings: { config: object; scripts: string[] } | undefined;
  const settings = () => {
    if (!workerSettings) {
      const precache = [...PRECACHED_ASSETS.map((name) => assets.url(name)), DRAFTS_PAGE];
      const scripts = WORKER_SCRIPTS.map((name) => assets.url(name));
      const version = createHash('sha256')
        .update([codeVersion(), ...precache, ...scripts].join('\n'))
        .digest('base64url')
        .slice(0, 12);
      workerSettings = { config: { version, precache, drafts: DRAFTS_PAGE }, scripts };
    }
    return workerSettings;
  };

  router.get('/manifest.webmanifest', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.type = 'application/manifest+json';
    ctx.body = webAppManifest(assets);
  });

  /** At the root, so its scope is the whole app. Never cached: the browser checks it for updates. */
  router.get('/sw.js', (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = renderView(ctx, 'field/sw', settings());
  });

  /**
   * Requests queued on this phone (src/client/app.js lists them from IndexedDB), and the pages saved
   * on it. The worker keeps it as anyone sees it, and shows it for a page it has no copy of offline.
   */
  router.get(DRAFTS_PAGE, (ctx) => {
    respond(ctx, { page: 'field/drafts', title: 'Queued requests', data: { shell: true } });
  });

  /**
   * Who is signed in here, and a CSRF token for this session: the queue asks just before it sends, so
   * a draft goes with a token that is valid now (never the one its form had) and never as another
   * account. A bearer-token caller has no session and so no token.
   */
  router.get('/api/session', (ctx) => {
    const user = requireUser(ctx);
    ctx.set('Cache-Control', 'no-store');
    const csrf = ctx.state.auth?.method === 'session' ? ctx.state.csrfToken() : null;
    respond(ctx, { json: { user: { id: user.id, username: user.username }, csrf_token: csrf } });
  });

  return router;
}
