import { z } from 'zod';
import { integer, MAX_ID } from '../../lib/schema.ts';

import { CHANNELS, NOTIFICATION_STATUSES } from './outbox.ts';

export { CHANNELS, NOTIFICATION_STATUSES };

const blankIsAbsent = (v: unknown) => (v === '' || v === undefined ? undefined : v);

/** Filters and keyset pagination of the notification log (page and API alike). */
export const logQuerySchema = z.object({
  status: z.preprocess(
    blankIsAbsent,
    z.enum(NOTIFICATION_STATUSES, { error: `must be one of ${NOTIFICATION_STATUSES.join(', ')}` }).optional(),
  ),
  channel: z.preprocess(blankIsAbsent, z.enum(CHANNELS, { error: 'must be email or sms' }).optional()),
  cursor: z.preprocess(blankIsAbsent, integer(1, MAX_ID).optional()),
  limit: z.preprocess(blankIsAbsent, integer(1, 200).optional()),
});
export type LogQuery = z.infer<typeof logQuerySchema>;

/** The query string of a log page: only what is set, so links stay short. */
export function logHref(base: string, q: LogQuery, cursor?: number): string {
  const params = new URLSearchParams();
  if (q.status) params.set('status', q.status);
  if (q.channel) params.set('channel', q.channel);
  if (q.limit) params.set('limit', String(q.limit));
  if (cursor) params.set('cursor', String(cursor));
  const s = params.toString();
  return s ? `${base}?${s}` : base;
}
