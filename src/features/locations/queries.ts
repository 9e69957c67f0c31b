import type { Db, Trx } from '../../db/index.ts';
import type { LocationKind } from './schema.ts';

type Q = Db | Trx;

export interface LocationRow {
  id: number;
  name: string;
  kind: LocationKind;
  holder_user_id: number | null;
  holder_username: string | null;
  active: boolean;
  is_default: boolean;
  created_at: Date | string;
  updated_at: Date | string;
}

/** SQLite hands booleans back as 0/1; both databases leave here with booleans. */
const locationRow = (row: LocationRow): LocationRow => ({
  ...row,
  id: Number(row.id),
  holder_user_id: row.holder_user_id === null ? null : Number(row.holder_user_id),
  active: Boolean(row.active),
  is_default: Boolean(row.is_default),
});

const withHolder = (q: Q) =>
  q('locations as l').leftJoin('users as u', 'u.id', 'l.holder_user_id').select('l.*', 'u.username as holder_username');

/** Default first, then warehouses, vans, sites, by name. */
export async function listLocations(q: Q, includeInactive: boolean): Promise<LocationRow[]> {
  const query = withHolder(q)
    .orderBy([
      { column: 'l.is_default', order: 'desc' },
      { column: 'l.kind', order: 'desc' },
      { column: 'l.name', order: 'asc' },
    ])
    .limit(1000);
  if (!includeInactive) query.where('l.active', true);
  return (await query).map(locationRow);
}

export async function findLocation(q: Q, id: number): Promise<LocationRow | undefined> {
  const row = await withHolder(q).where('l.id', id).first();
  return row ? locationRow(row) : undefined;
}

export async function locationsByIds(q: Q, ids: number[]): Promise<LocationRow[]> {
  if (ids.length === 0) return [];
  return (await withHolder(q).whereIn('l.id', [...new Set(ids)])).map(locationRow);
}

export async function findDefaultLocation(q: Q): Promise<LocationRow | undefined> {
  const row = await withHolder(q).where('l.is_default', true).first();
  return row ? locationRow(row) : undefined;
}

/** The active vans a user holds. */
export async function vansHeldBy(q: Q, userId: number): Promise<LocationRow[]> {
  return (await withHolder(q).where({ 'l.holder_user_id': userId, 'l.active': true }).orderBy('l.name')).map(locationRow);
}

export async function insertLocation(
  q: Q,
  row: { name: string; kind: LocationKind; holder_user_id: number | null; active: boolean; now: string },
): Promise<number> {
  const { now, ...fields } = row;
  const [created] = await q('locations')
    .insert({ ...fields, is_default: false, created_at: now, updated_at: now })
    .returning('id');
  return Number((created as { id: number }).id);
}

export const updateLocation = (q: Q, id: number, fields: Record<string, unknown>) => q('locations').where({ id }).update(fields);

export async function userExists(q: Q, id: number): Promise<boolean> {
  return Boolean(await q('users').where({ id }).first('id'));
}
