import { toIso } from '../../db/index.ts';
import type { AttemptRow, DeliveryRow, SubscriptionRow } from './queries.ts';
import type { AttemptJson, DeliveryJson, SubscriptionJson } from './schema.ts';

/** A subscription as admins see it: never its secret. */
export const presentSubscription = (row: SubscriptionRow): SubscriptionJson => ({
  id: row.id,
  url: row.url,
  description: row.description,
  events: row.events,
  enabled: Boolean(row.enabled),
  consecutive_failures: row.consecutive_failures,
  disabled_at: toIso(row.disabled_at),
  disabled_reason: row.disabled_reason,
  created_by: row.created_by_id === null ? null : { id: row.created_by_id, username: row.created_by_username ?? 'deleted user' },
  created_at: toIso(row.created_at) as string,
  updated_at: toIso(row.updated_at) as string,
});

export const presentAttempt = (row: AttemptRow): AttemptJson => ({
  attempt: row.attempt,
  outcome: row.outcome,
  status_code: row.status_code,
  duration_ms: row.duration_ms,
  error: row.error,
  response_excerpt: row.response_excerpt,
  started_at: toIso(row.started_at) as string,
});

/** A delivery with the body it sends and every attempt so far, oldest first. */
export const presentDelivery = (row: DeliveryRow, attempts: AttemptRow[]): DeliveryJson => ({
  id: row.id,
  subscription_id: row.subscription_id,
  webhook_id: row.message_id,
  event_type: row.event_type,
  status: row.status,
  attempts: row.attempts,
  next_attempt_at: row.status === 'queued' ? toIso(row.next_attempt_at) : null,
  last_status_code: row.last_status_code,
  last_error: row.last_error,
  delivered_at: toIso(row.delivered_at),
  created_at: toIso(row.created_at) as string,
  payload: JSON.parse(row.payload) as DeliveryJson['payload'],
  attempt_log: attempts.map(presentAttempt),
});
