import { toIso } from '../../db/index.ts';
import type { Principal } from '../../http/context.ts';
import type { PublicUserRow } from './queries.ts';

/** The JSON shape of a user. The phone number is shown to its owner and to admins only. */
export function presentUser(user: PublicUserRow, viewer?: Principal) {
  const mayseePhone = viewer && (viewer.id === user.id || viewer.role === 'admin');
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    ...(mayseePhone ? { phone: user.phone } : {}),
    role: user.role,
    created_at: toIso(user.created_at),
  };
}

export const toPrincipal = (u: Pick<PublicUserRow, 'id' | 'username' | 'email' | 'role'>): Principal => ({
  id: u.id,
  username: u.username,
  email: u.email,
  role: u.role,
});
