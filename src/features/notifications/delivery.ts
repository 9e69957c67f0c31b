import type { NotificationSettings } from '../../config.ts';
import { resendSender, sendgridSender } from './email.ts';
import type { Channel } from './outbox.ts';
import { DeliveryError, failureSentence, type OutgoingMessage, type Sender } from './sender.ts';
import { twilioSender } from './sms.ts';
import { smtpSender } from './smtp.ts';

export interface Channels {
  /** Senders in order of preference: the next is tried when one fails for a row. */
  email: Sender[];
  sms: Sender[];
  /** Why a channel has no sender (missing variables), for the rows it skips. */
  unconfigured: Partial<Record<Channel, string>>;
}

export type Outcome =
  | { kind: 'sent'; provider: string; messageId: string | null }
  | { kind: 'skipped'; reason: string }
  | { kind: 'error'; provider: string; message: string; permanent: boolean };

/** The real SDK clients, built once per worker (they keep their HTTP connections alive between sends). */
export function createChannels(settings: NotificationSettings): Channels {
  const channels: Channels = { email: [], sms: [], unconfigured: {} };
  const timeoutMs = settings.sendTimeoutMs;
  const from = settings.fromEmail;
  if (from && settings.resend) channels.email.push(resendSender({ ...settings.resend, from, timeoutMs }));
  if (from && settings.sendgrid) channels.email.push(sendgridSender({ ...settings.sendgrid, from, timeoutMs }));
  if (settings.smtp?.from) channels.email.push(smtpSender({ url: settings.smtp.url, from: settings.smtp.from, timeoutMs }));
  if (!settings.resend && !settings.sendgrid && !settings.smtp) {
    channels.unconfigured.email =
      'Email is not configured: set RESEND_API_KEY, SENDGRID_API_KEY or SMTP_URL, and SENDGRID_FROM_EMAIL (or SMTP_FROM).';
  } else if (channels.email.length === 0) {
    channels.unconfigured.email = settings.smtp
      ? 'Email is not configured: the sender address (SMTP_FROM or SENDGRID_FROM_EMAIL) is not set.'
      : 'Email is not configured: SENDGRID_FROM_EMAIL (the sender address) is not set.';
  }
  const { accountSid, authToken, phoneNumber, baseUrl } = settings.twilio;
  if (accountSid && authToken && phoneNumber) {
    channels.sms.push(twilioSender({ accountSid, authToken, from: phoneNumber, baseUrl, timeoutMs }));
  } else {
    const missing = Object.entries({
      TWILIO_ACCOUNT_SID: accountSid,
      TWILIO_AUTH_TOKEN: authToken,
      TWILIO_PHONE_NUMBER: phoneNumber,
    })
      .filter(([, v]) => !v)
      .map(([k]) => k);
    channels.unconfigured.sms = `SMS is not configured: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set.`;
  }
  return channels;
}

/** The sender address the first email provider would use (what a preview shows as From), or null. */
export function emailFrom(settings: NotificationSettings): string | null {
  if (settings.fromEmail && (settings.resend || settings.sendgrid)) return settings.fromEmail;
  return settings.smtp?.from ?? null;
}

/** How each provider is named in an error sentence. */
const PROVIDER_NAMES: Record<string, string> = {
  resend: 'Resend',
  sendgrid: 'SendGrid',
  smtp: 'The SMTP server',
  twilio: 'Twilio',
};

/** Lets go of the providers' kept connections (the worker is stopping). */
export async function closeChannels(channels: Channels): Promise<void> {
  await Promise.all([...channels.email, ...channels.sms].map((sender) => sender.close?.()));
}

/** Which providers each channel will use: for the start-up log line (names only, never credentials). */
export const describeChannels = (channels: Channels) => ({
  email: channels.email.map((s) => s.provider),
  sms: channels.sms.map((s) => s.provider),
});

/**
 * Sends through the channel's providers in order until one accepts. The row fails for good only when
 * every provider tried refused it permanently; otherwise it is worth another attempt later.
 */
export async function deliver(channels: Channels, message: OutgoingMessage): Promise<Outcome> {
  const senders = channels[message.channel];
  if (senders.length === 0) {
    return { kind: 'skipped', reason: channels.unconfigured[message.channel] ?? `No provider for ${message.channel}.` };
  }
  const errors: DeliveryError[] = [];
  for (const sender of senders) {
    try {
      const sent = await sender.send(message);
      return { kind: 'sent', provider: sent.provider, messageId: sent.messageId };
    } catch (err) {
      // An SDK that threw instead of answering (a timeout, a bug): still a sentence naming the provider.
      const e = err as { name?: unknown; message?: unknown };
      const sentence = failureSentence(PROVIDER_NAMES[sender.provider] ?? sender.provider, {
        code: typeof e?.name === 'string' && e.name !== 'Error' ? e.name : null,
        detail: typeof e?.message === 'string' ? e.message : String(err),
      });
      errors.push(err instanceof DeliveryError ? err : new DeliveryError(sender.provider, sentence, false));
    }
  }
  const last = errors.at(-1) as DeliveryError;
  return {
    kind: 'error',
    provider: last.provider,
    message: errors.map((e) => e.message).join(' | '),
    permanent: errors.every((e) => e.permanent),
  };
}
