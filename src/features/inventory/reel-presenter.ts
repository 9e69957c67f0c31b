import { toIso } from '../../db/index.ts';
import { formatLength } from '../../lib/length.ts';
import type { ReelMovementRow, ReelRow } from './reel-queries.ts';
import type { ReelJson, ReelMovementJson } from './reel-schema.ts';
import { isPickable } from './reels.ts';

/** The address a reel's label points at: the phone camera opens it. */
export const reelUrl = (appUrl: string, code: string) => `${appUrl}/r/${code}`;

export const presentReel = (r: ReelRow, appUrl: string): ReelJson => ({
  id: r.id,
  code: r.code,
  cable_type: r.cable_type,
  unit: r.unit,
  location: { id: r.location_id, name: r.location_name },
  starting_mm: r.starting_mm,
  remaining_mm: r.remaining_mm,
  starting: formatLength(r.starting_mm, r.unit),
  remaining: formatLength(r.remaining_mm, r.unit),
  lot: r.lot,
  receipt_id: r.receipt_id,
  status: r.status,
  pickable: isPickable(r),
  url: reelUrl(appUrl, r.code),
  created_at: toIso(r.created_at) as string,
  updated_at: toIso(r.updated_at) as string,
});

export const presentReelMovement = (m: ReelMovementRow, reel: Pick<ReelRow, 'unit'>): ReelMovementJson => ({
  id: m.id,
  movement_type: m.movement_type,
  source_type: m.source_type,
  source_id: m.source_id,
  location_id: m.location_id,
  location_name: m.location_name,
  quantity_mm: m.quantity_delta,
  quantity: `${m.quantity_delta > 0 ? '+' : ''}${formatLength(m.quantity_delta, reel.unit)}`,
  actor: m.actor_user_id ? { id: m.actor_user_id, username: m.actor_username ?? 'deleted user' } : null,
  notes: m.notes,
  created_at: toIso(m.created_at) as string,
});
