import type { Context } from 'koa';
import { HttpError } from './errors.ts';
import { audienceOf, respond } from './respond.ts';

const REDISPLAYED = new Set([400, 401, 409, 429]);
const NEVER_ECHOED = new Set(['password', '_csrf']);

/** The submitted values to put back into a re-rendered form (never passwords or the CSRF token). */
export function formValues(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object') return {};
  return Object.fromEntries(Object.entries(body).filter(([k]) => !NEVER_ECHOED.has(k)));
}

/** Item rows for a form with "Add item" / "Remove": what was typed, `extra` blank rows added, row `remove` dropped. */
export function formItems(body: Record<string, unknown>, extra = 0, remove?: number): Record<string, unknown>[] {
  const raw = body.items;
  const rows = (Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? Object.values(raw) : []).filter(
    (r, i) => i !== remove && r && typeof r === 'object',
  ) as Record<string, unknown>[];
  return [...(rows.length ? rows : [{}]), ...Array.from({ length: extra }, () => ({}))];
}

/** The no-JS form's "Add item" / "Remove" buttons: how to change its rows, or undefined for a real submit. */
export function rowEdit(body: Record<string, unknown>): { extra: number; remove?: number } | undefined {
  if (body.add_item === undefined && body.remove_item === undefined) return undefined;
  return {
    extra: body.add_item !== undefined ? 1 : 0,
    remove: body.remove_item !== undefined ? Number(body.remove_item) : undefined,
  };
}

/**
 * htmx's "Add item" asks for one more blank row (`?index=n`), rendered by the row template `page`;
 * its "Remove" swaps the row away whatever comes back, so it gets nothing.
 */
export function respondItemRow(ctx: Context, page: string): void {
  if (ctx.query.remove !== undefined) {
    ctx.body = '';
    return;
  }
  const index = Number.parseInt(String(ctx.query.index ?? '0'), 10);
  const safeIndex = Number.isFinite(index) && index >= 0 ? index % 1000 : 0;
  respond(ctx, { page, data: { index: safeIndex, item: {}, errors: {}, oob: true } });
}

export interface FormView {
  page: string;
  partial?: string;
  title: string;
  /** What the form's page needs besides the submitted values: read only when the form is shown again. */
  data?: object | (() => Promise<object>);
}

/**
 * Runs a button's action. Without JavaScript, a refusal whose status is in `statuses` sends the
 * browser back to `back` (303) with the sentence as an error flash; htmx and JSON clients get the
 * error itself.
 */
export async function refusalAsFlash(
  ctx: Context,
  back: string,
  action: () => Promise<void>,
  statuses: readonly number[] = [403, 409],
): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (audienceOf(ctx) !== 'page' || !(err instanceof HttpError) || !statuses.includes(err.status)) throw err;
    respond(ctx, { redirect: back, flash: { kind: 'error', message: err.message } });
  }
}

/**
 * Runs a form handler; when it fails with a user error, a browser gets the same form back with the
 * message at the top and each field's sentence beside the field (status kept), and JSON clients get
 * the usual error body.
 */
export async function handleForm(ctx: Context, view: FormView, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (!(err instanceof HttpError) || !REDISPLAYED.has(err.status) || audienceOf(ctx) === 'json') throw err;
    if (err.headers) ctx.set(err.headers);
    const data = typeof view.data === 'function' ? await view.data() : view.data;
    respond(ctx, {
      status: err.status,
      page: view.page,
      partial: view.partial,
      title: view.title,
      data: {
        ...data,
        // Each field's sentence sits beside the field; the top of the form only says where to look.
        error: err.fields && Object.keys(err.fields).length ? 'Check the fields marked below.' : err.message,
        errors: err.fields ?? {},
        values: formValues(ctx.request.body),
      },
    });
  }
}
