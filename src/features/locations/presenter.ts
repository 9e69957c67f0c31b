import { toIso } from '../../db/index.ts';
import type { LocationRow } from './queries.ts';
import type { LocationJson } from './schema.ts';

export const presentLocation = (l: LocationRow): LocationJson => ({
  id: l.id,
  name: l.name,
  kind: l.kind,
  holder: l.holder_user_id ? { id: l.holder_user_id, username: l.holder_username ?? 'deleted user' } : null,
  active: l.active,
  is_default: l.is_default,
  created_at: toIso(l.created_at) as string,
  updated_at: toIso(l.updated_at) as string,
});

export const placeOf = (l: Pick<LocationRow, 'id' | 'name'>) => ({ id: l.id, name: l.name });
