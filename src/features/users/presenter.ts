import { toIso } from '../../db/index.ts';
import type { Principal } from '../../http/context.ts';
import type { PublicUserRow } from './queries.ts';
import type { DelegationJson, UserJson } from './schema.ts';

/** The JSON shape of a user. The phone number is shown to its owner and to admins only. */
export function presentUser(user: PublicUserRow, viewer?: Principal): UserJson {
  const mayseePhone = viewer && (viewer.id === user.id || viewer.role === 'admin');
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    ...(mayseePhone ? { phone: user.phone } : {}),
    role: user.role,
    created_at: toIso(user.created_at) as string,
  };
}

export const toPrincipal = (u: Pick<PublicUserRow, 'id' | 'username' | 'email' | 'role'>): Principal => ({
  id: u.id,
  username: u.username,
  email: u.email,
  role: u.role,
});

/** A delegation as the API shows it; `active` when `now` is inside its period. */
export const presentDelegation = (
  d: { delegate_id: number; delegate_username: string; away_from: Date | string; away_until: Date | string } | undefined,
  now: Date,
): DelegationJson | null =>
  d
    ? {
        delegate: { id: d.delegate_id, username: d.delegate_username },
        away_from: new Date(d.away_from).toISOString(),
        away_until: new Date(d.away_until).toISOString(),
        active: new Date(d.away_from) <= now && now < new Date(d.away_until),
      }
    : null;
