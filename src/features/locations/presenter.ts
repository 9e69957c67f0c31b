import { toIso } from '../../db/index.ts';
import type { RuleRow, SuggestionRow, TransferDetail } from '../inventory/service.ts';
import type { LocationRow } from './queries.ts';
import type { LocationJson, ReorderRuleJson, SuggestionJson, TransferJson } from './schema.ts';

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

type Names = Map<number, Pick<LocationRow, 'id' | 'name'>>;
const placeIn = (names: Names, id: number) => placeOf(names.get(id) ?? { id, name: `location ${id}` });

export const presentTransfer = (d: TransferDetail): TransferJson => ({
  id: Number(d.transfer.id),
  from_location: placeOf(d.from),
  to_location: placeOf(d.to),
  notes: d.transfer.notes,
  items: d.items,
  created_by: d.transfer.created_by_id
    ? { id: Number(d.transfer.created_by_id), username: d.transfer.created_by_username ?? 'deleted user' }
    : null,
  created_at: toIso(d.transfer.created_at) as string,
});

export const presentRule = (r: RuleRow, names: Names): ReorderRuleJson => ({
  location: placeIn(names, r.location_id),
  cable_type: r.cable_type,
  cable_length: r.cable_length,
  min_quantity: r.min_quantity,
  max_quantity: r.max_quantity,
  pack_multiple: r.pack_multiple,
});

export const presentSuggestion = (s: SuggestionRow, names: Names): SuggestionJson => ({
  id: s.id,
  kind: s.kind,
  location: placeIn(names, s.location_id),
  from_location: s.from_location_id ? placeIn(names, s.from_location_id) : null,
  cable_type: s.cable_type,
  cable_length: s.cable_length,
  quantity: s.quantity,
  status: s.status,
  transfer_id: s.transfer_id,
  created_at: toIso(s.created_at) as string,
  closed_at: toIso(s.closed_at),
});
