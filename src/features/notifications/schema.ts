import { z } from 'zod';
import { pageHref } from '../../http/links.ts';
import { isoTime } from '../../http/openapi.ts';
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

/** A row of the notification log: recipients masked, never the message bodies. */
export const notificationJson = z
  .object({
    id: z.number().int(),
    status: z.enum(NOTIFICATION_STATUSES),
    channel: z.enum(CHANNELS),
    notification_type: z.string(),
    recipient: z.string().nullable().meta({ description: 'Masked: a***@example.com, +1******1234.' }),
    recipient_user_id: z.number().int().nullable(),
    ticket_id: z.number().int().nullable(),
    optics_request_id: z.number().int().nullable(),
    subject: z.string().nullable(),
    attempts: z.number().int(),
    provider: z.string().nullable(),
    provider_message_id: z.string().nullable(),
    error_message: z.string().nullable(),
    next_attempt_at: isoTime.nullable().meta({ description: 'When a queued message is tried next.' }),
    created_at: isoTime,
    sent_at: isoTime.nullable(),
    updated_at: isoTime,
  })
  .meta({ id: 'Notification' });
export type NotificationJson = z.infer<typeof notificationJson>;

/** One notification with its message as the provider gets it (an admin's preview). */
export const notificationPreviewJson = notificationJson
  .extend({
    message: z.object({
      from: z
        .string()
        .nullable()
        .meta({ description: 'The sender under the current configuration (null: no provider configured).' }),
      to: z.string().nullable().meta({ description: 'Masked.' }),
      subject: z.string().nullable(),
      text: z.string(),
      html: z.string().nullable().meta({ description: 'Null for SMS and text-only email.' }),
      characters: z.number().int().meta({ description: 'Characters of the text (an SMS is split past 160).' }),
    }),
  })
  .meta({ id: 'NotificationPreview' });
export type NotificationPreviewJson = z.infer<typeof notificationPreviewJson>;
