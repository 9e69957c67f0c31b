import { toIso } from '../../db/index.ts';
import { maskAddress } from '../../lib/addresses.ts';
import type { NotificationRow } from './queries.ts';
import type { NotificationJson, NotificationPreviewJson } from './schema.ts';
import type { NotificationPreview } from './service.ts';

/**
 * The JSON shape of a notification-log row. The recipient is masked (a***@example.com, +1******1234);
 * the log never carries message bodies (they hold review links): only one row's preview does.
 */
export function presentNotification(row: NotificationRow): NotificationJson {
  return {
    id: row.id,
    status: row.status,
    channel: row.channel,
    notification_type: row.notification_type,
    recipient: maskAddress(row.channel, row.recipient_address),
    recipient_user_id: row.recipient_user_id,
    ticket_id: row.ticket_id,
    optics_request_id: row.optics_request_id,
    subject: row.subject,
    attempts: row.attempts,
    provider: row.provider,
    provider_message_id: row.provider_message_id,
    error_message: row.error_message,
    next_attempt_at: row.status === 'queued' ? toIso(row.next_attempt_at) : null,
    created_at: toIso(row.created_at) as string,
    sent_at: toIso(row.sent_at),
    updated_at: toIso(row.updated_at) as string,
  };
}

export type PresentedNotification = ReturnType<typeof presentNotification>;

/**
 * One notification with its message, for an admin's preview (`GET /api/notifications/:id`): the log
 * row's fields and `message` as the provider gets it. `from` is the sender under the current
 * configuration (null when no provider is configured for the channel); `html` is null for SMS and
 * text-only email.
 */
export function presentPreview({ row, message, from }: NotificationPreview): NotificationPreviewJson {
  return {
    ...presentNotification(row),
    message: {
      from,
      to: maskAddress(row.channel, row.recipient_address),
      subject: message.subject,
      text: message.text,
      html: message.html,
      characters: [...message.text].length,
    },
  };
}

export type PresentedPreview = ReturnType<typeof presentPreview>;
