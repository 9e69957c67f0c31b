import type { Context } from 'koa';
import type { Principal } from './context.ts';
import { forbidden, unauthorized } from './errors.ts';

/** The signed-in caller, or 401. */
export function requireUser(ctx: Context): Principal {
  const user = ctx.state.user;
  if (!user) throw unauthorized();
  return user;
}

/** An admin caller: 401 when signed out, 403 for other users. */
export function requireAdmin(ctx: Context, message = 'Only an admin can do that.'): Principal {
  const user = requireUser(ctx);
  if (user.role !== 'admin') throw forbidden(message);
  return user;
}

/** Forget the cookie session (the row is deleted by the store). */
export function destroySession(ctx: Context): void {
  (ctx as unknown as { session: null }).session = null;
}

/** A same-site path to return to after sign-in; anything else (//evil, https://…) falls back. */
export function safeReturnPath(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string') return fallback;
  if (!/^\/(?![/\\])[^\s]*$/.test(value)) return fallback;
  return value;
}
