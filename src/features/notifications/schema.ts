import { z } from 'zod';
import { pageHref } from '../../http/links.ts';
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
export const logHref = (base: string, q: LogQuery, cursor?: number): string =>
  pageHref(base, { status: q.status, channel: q.channel, limit: q.limit, cursor });
