import { z } from 'zod';
import { pageHref } from '../../http/links.ts';
import { integer, MAX_ID, optionalParam } from '../../lib/schema.ts';

import { CHANNELS, NOTIFICATION_STATUSES } from './outbox.ts';

export { CHANNELS, NOTIFICATION_STATUSES };

/** Filters and keyset pagination of the notification log (page and API alike). */
export const logQuerySchema = z.object({
  status: optionalParam(z.enum(NOTIFICATION_STATUSES, { error: `must be one of ${NOTIFICATION_STATUSES.join(', ')}` })),
  channel: optionalParam(z.enum(CHANNELS, { error: 'must be email or sms' })),
  cursor: optionalParam(integer(1, MAX_ID)),
  limit: optionalParam(integer(1, 200)),
});
export type LogQuery = z.infer<typeof logQuerySchema>;

/** The query string of a log page: only what is set, so links stay short. */
export const logHref = (base: string, q: LogQuery, cursor?: number): string =>
  pageHref(base, { status: q.status, channel: q.channel, limit: q.limit, cursor });
