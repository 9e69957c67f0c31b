import { toIso } from '../../db/index.ts';
import type { PersonalTokenRow } from './queries.ts';
import type { PersonalTokenJson } from './schema.ts';

export const presentPersonalToken = (row: PersonalTokenRow): PersonalTokenJson => ({
  id: row.id,
  name: row.name,
  scope: row.scope,
  created_at: toIso(row.created_at) as string,
  expires_at: toIso(row.expires_at) as string,
  last_used_at: toIso(row.last_used_at),
});
