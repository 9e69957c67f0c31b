import type { Context } from 'koa';

export type Audience = 'json' | 'partial' | 'page';

/** `/api/...` and clients that prefer JSON get JSON; htmx gets fragments; everyone else full pages. */
export function audienceOf(ctx: Context): Audience {
  if (ctx.path === '/api' || ctx.path.startsWith('/api/')) return 'json';
  const accept = ctx.get('Accept');
  if (accept && ctx.accepts('html', 'json') === 'json') return 'json';
  if (ctx.get('HX-Request') === 'true' && ctx.get('HX-History-Restore-Request') !== 'true') return 'partial';
  return 'page';
}

export interface Flash {
  kind: 'success' | 'error' | 'info';
  message: string;
}

export function setFlash(ctx: Context, flash: Flash): void {
  if (ctx.session) ctx.session.flash = flash;
}

function takeFlash(ctx: Context): Flash | undefined {
  if (!ctx.session || ctx.session.isNew || !ctx.session.flash) return undefined;
  const flash = ctx.session.flash as Flash;
  delete ctx.session.flash;
  return flash;
}

/** "2026-11-25 16:40 UTC": one unambiguous form for every page and message. */
export function formatTime(iso: string | Date | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** What every template may use, besides its own data. */
function locals(ctx: Context, title: string | undefined) {
  return {
    title,
    user: ctx.state.user,
    csrfToken: () => ctx.state.csrfToken(),
    asset: (name: string) => ctx.deps.assets.url(name),
    path: ctx.path,
    flash: takeFlash(ctx),
    when: formatTime,
  };
}

export function renderView(ctx: Context, template: string, data: object, title?: string): string {
  return ctx.deps.views.render(template, { ...locals(ctx, title), ...data });
}

export interface RespondOptions {
  status?: number;
  /** Body for JSON clients (a presenter's output). Without it, a JSON client gets `data`. */
  json?: unknown;
  /** Full-page template (it declares the layout). */
  page?: string;
  /** Fragment for htmx; a page includes the same fragment. Defaults to `page`. */
  partial?: string;
  data?: object;
  title?: string;
  /** Browsers (and htmx without a partial) are sent here with 303 instead of a page: post/redirect/get. */
  redirect?: string;
  flash?: Flash;
}

/** The one place that answers a page, an htmx partial or JSON. */
export function respond(ctx: Context, opts: RespondOptions): void {
  const audience = audienceOf(ctx);
  ctx.vary('Accept');
  ctx.vary('HX-Request');
  ctx.status = opts.status ?? 200;
  if (audience === 'json') {
    ctx.body = opts.json ?? opts.data ?? {};
    return;
  }
  if (opts.flash) setFlash(ctx, opts.flash);
  if (opts.redirect && (audience === 'page' || !opts.partial)) {
    if (audience === 'partial') {
      ctx.set('HX-Redirect', opts.redirect);
      ctx.status = 204;
      return;
    }
    ctx.status = 303;
    ctx.redirect(opts.redirect);
    return;
  }
  const template = audience === 'partial' ? (opts.partial ?? opts.page) : opts.page;
  if (!template) throw new Error('respond(): a page template is required for browsers');
  ctx.type = 'html';
  ctx.body = renderView(ctx, template, opts.data ?? {}, opts.title);
}
