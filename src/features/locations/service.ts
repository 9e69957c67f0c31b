import { type Db, isUniqueViolation, nowIso, type Trx } from '../../db/index.ts';
import { badRequest, conflict, notFound } from '../../http/errors.ts';
import {
  findDefaultLocation,
  findLocation,
  insertLocation,
  type LocationRow,
  listLocations,
  locationsByIds,
  updateLocation,
  userExists,
  vansHeldBy,
} from './queries.ts';
import type { LocationInput, LocationPatch } from './schema.ts';

export type { LocationRow } from './queries.ts';

/**
 * Where stock lives (DESIGN.md §12): warehouses, vans (with the technician who holds one) and sites.
 * One is the default (the migration made "Main warehouse" so): receiving, adjustments and requests
 * use it unless told otherwise. Stock itself, transfers and reorder rules are inventory's.
 */

const nameTaken = () =>
  conflict('name: another location already has that name', { name: 'another location already has that name' });

async function checkHolder(q: Db | Trx, kind: string, holder: number | null | undefined): Promise<void> {
  if (holder === null || holder === undefined) return;
  if (kind !== 'van') throw badRequest('holder_user_id: only a van has a holder', { holder_user_id: 'only a van has a holder' });
  if (!(await userExists(q, holder)))
    throw badRequest('holder_user_id: no user with that id', { holder_user_id: 'no user with that id' });
}

export async function createLocation(db: Db, input: LocationInput): Promise<LocationRow> {
  await checkHolder(db, input.kind, input.holder_user_id);
  try {
    const id = await insertLocation(db, {
      name: input.name,
      kind: input.kind,
      holder_user_id: input.holder_user_id ?? null,
      active: input.active ?? true,
      now: nowIso(),
    });
    return (await findLocation(db, id)) as LocationRow;
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken();
    throw err;
  }
}

export async function changeLocation(db: Db, id: number, patch: LocationPatch): Promise<LocationRow> {
  const current = await getLocation(db, id);
  const kind = patch.kind ?? current.kind;
  const holder = patch.holder_user_id !== undefined ? patch.holder_user_id : kind === 'van' ? current.holder_user_id : null;
  await checkHolder(db, kind, holder);
  if (current.is_default && patch.active === false) throw conflict('The default location cannot be made inactive.');
  if (current.is_default && kind !== 'warehouse') throw conflict('The default location must stay a warehouse.');
  try {
    await updateLocation(db, id, {
      name: patch.name ?? current.name,
      kind,
      holder_user_id: holder,
      active: patch.active ?? current.active,
      updated_at: nowIso(),
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken();
    throw err;
  }
  return getLocation(db, id);
}

export async function getLocation(db: Db | Trx, id: number): Promise<LocationRow> {
  const row = await findLocation(db, id);
  if (!row) throw notFound('No location with that id.');
  return row;
}

export const allLocations = (db: Db | Trx, includeInactive = true) => listLocations(db, includeInactive);
export const locationsWithIds = (db: Db | Trx, ids: number[]) => locationsByIds(db, ids);
export const vansOf = (db: Db | Trx, userId: number) => vansHeldBy(db, userId);

export async function defaultLocation(db: Db | Trx): Promise<LocationRow> {
  const row = await findDefaultLocation(db);
  if (!row) throw new Error('no default location: run the migrations');
  return row;
}

/**
 * The location a body field names, ready to take or hold stock: 400 naming the field when there is
 * none with that id, 409 when it is inactive. Undefined means the default location.
 */
export async function usableLocation(db: Db | Trx, id: number | undefined, field: string): Promise<LocationRow> {
  if (id === undefined) return defaultLocation(db);
  const row = await findLocation(db, id);
  if (!row) throw badRequest(`${field}: no location with that id`, { [field]: 'no location with that id' });
  if (!row.active) throw conflict(`${field}: ${row.name} is inactive`, { [field]: `${row.name} is inactive` });
  return row;
}

/** The locations a person picks a request's source from: their vans first, then the rest; the default preselected. */
export async function sourceChoices(db: Db | Trx, userId: number): Promise<{ choices: LocationRow[]; preferred: number }> {
  const all = await listLocations(db, false);
  const mine = all.filter((l) => l.kind === 'van' && l.holder_user_id === userId);
  const rest = all.filter((l) => !mine.includes(l));
  const preferred = all.find((l) => l.is_default)?.id ?? all[0]?.id ?? 0;
  return { choices: [...mine, ...rest], preferred };
}
