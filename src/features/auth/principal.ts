import type { Context, Next } from 'koa';
import { forbidden, unauthorized } from '../../http/errors.ts';
import { sha256 } from '../../lib/crypto.ts';
import { toPrincipal } from '../users/presenter.ts';
import { findUserById } from '../users/service.ts';
import { findUserByActiveToken } from './queries.ts';
import { notePersonalTokenUse } from './service.ts';
import { accountReadWithSession, SESSION_COOKIE } from './session.ts';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Sets `ctx.state.user` from `Authorization: Bearer <token>` or the session cookie. A bearer token
 * that is wrong, expired or revoked is a 401 at once (the client asked to be someone). The user row
 * is read on every request so a role change or a deleted account takes effect immediately (for a
 * cookie, in the same statement as the session row); a revoked token stops working the same way.
 * A `read` token is refused (403) for any unsafe method here, before any route runs, so no route can
 * forget it. A personal token's last use is noted at most once a minute.
 */
export async function loadPrincipal(ctx: Context, next: Next): Promise<void> {
  const header = ctx.get('Authorization');
  // Other schemes (Basic from a proxy in front of a staging site) are not ours to judge: ignored.
  const isBearer = /^Bearer(\s|$)/i.test(header);
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  if (isBearer && !bearer) throw unauthorized('The Authorization header must be "Bearer <access_token>".');
  if (bearer) {
    const row = await findUserByActiveToken(ctx.deps.db, sha256(bearer));
    if (!row) throw unauthorized('The access token is invalid, expired or revoked. Sign in again.');
    if (row.token_scope === 'read' && !SAFE.has(ctx.method)) {
      throw forbidden('This token has the read scope: it cannot change anything. Use a token with the write scope.');
    }
    await notePersonalTokenUse(ctx.deps.db, row, new Date());
    ctx.state.user = toPrincipal(row);
    ctx.state.auth = { method: 'token', tokenId: row.token_id, kind: row.token_kind, scope: row.token_scope };
  } else if (ctx.cookies.get(SESSION_COOKIE)) {
    const userId = ctx.session.userId;
    if (typeof userId === 'number') {
      // Normally read in the session's own statement; by id when that row named no (or another) account.
      const read = accountReadWithSession(ctx);
      const user = read?.id === userId ? read : await findUserById(ctx.deps.db, userId);
      if (user) {
        ctx.state.user = toPrincipal(user);
        ctx.state.auth = { method: 'session' };
      } else {
        delete ctx.session.userId;
      }
    }
  }
  await next();
}
