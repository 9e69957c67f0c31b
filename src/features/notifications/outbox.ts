import { Eta } from 'eta';
import type { Db, Trx } from '../../db/index.ts';
import { nowIso, prepared } from '../../db/index.ts';
import { viewsDir } from '../../paths.ts';
import { outboxChanged } from './signal.ts';

export const CHANNELS = ['email', 'sms'] as const;
export type Channel = (typeof CHANNELS)[number];
/** The statuses an outbox row can have (DESIGN.md §6). */
export const NOTIFICATION_STATUSES = ['queued', 'sending', 'sent', 'failed', 'skipped'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

export interface Recipient {
  id: number | null;
  email: string | null;
  phone: string | null;
}

export interface OutboxMessage {
  notification_type: string;
  channel: Channel;
  recipient: Recipient;
  subject?: string;
  text: string;
  html?: string;
  /** Email only: the Reply-To address (a review request's signed reply address). */
  reply_to?: string | null;
  ticket_id?: number | null;
  optics_request_id?: number | null;
}

/**
 * Message templates (views/messages): HTML email escapes its data; text email and SMS are plain
 * text, where escaping would print `&amp;`. Rendered once, when the row is written.
 */
const htmlMessages = new Eta({ views: viewsDir, cache: true, autoEscape: true, autoTrim: [false, 'nl'] });
const textMessages = new Eta({ views: viewsDir, cache: true, autoEscape: false, autoTrim: false });

export const renderMessage = (template: string, data: object): string =>
  (template.endsWith('.html') ? htmlMessages : textMessages).render(`messages/${template}.eta`, data).trim();

/**
 * Writes outbox rows inside the caller's transaction, so a message exists exactly when its cause
 * committed. A recipient without an address for the channel gets a `skipped` row saying so.
 */
export async function enqueue(trx: Trx | Db, list: OutboxMessage[]): Promise<void> {
  if (list.length === 0) return;
  const now = nowIso();
  await prepared(
    trx('notifications').insert(
      list.map((m) => {
        const address = m.channel === 'email' ? m.recipient.email : m.recipient.phone;
        return {
          ticket_id: m.ticket_id ?? null,
          optics_request_id: m.optics_request_id ?? null,
          recipient_user_id: m.recipient.id,
          recipient_address: address,
          channel: m.channel,
          notification_type: m.notification_type,
          status: address ? 'queued' : 'skipped',
          error_message: address ? null : `The recipient has no ${m.channel === 'email' ? 'email address' : 'phone number'}.`,
          attempts: 0,
          next_attempt_at: now,
          subject: m.subject ?? null,
          body_text: m.text,
          body_html: m.html ?? null,
          reply_to: m.channel === 'email' ? (m.reply_to ?? null) : null,
          created_at: now,
          updated_at: now,
        };
      }),
    ),
    'notifications_insert',
  );
  // Wake an in-process worker once the rows are visible, i.e. after the caller's commit.
  if ('executionPromise' in trx && trx.isTransaction) trx.executionPromise.then(outboxChanged, () => {});
  else outboxChanged();
}

/** An email in both forms from `messages/<name>.text.eta` and `messages/<name>.html.eta`. */
export function email(name: string, data: object): Pick<OutboxMessage, 'subject' | 'text' | 'html' | 'channel'> {
  const text = renderMessage(`${name}.text`, data);
  const [subjectLine, ...rest] = text.split('\n');
  return {
    channel: 'email',
    subject: (subjectLine ?? '').replace(/^Subject:\s*/, '').slice(0, 200),
    text: rest.join('\n').trim(),
    html: renderMessage(`${name}.html`, data),
  };
}
