import type sendgridClient from '@sendgrid/client';
import type sendgridMail from '@sendgrid/mail';
import { onFirstUse } from '../../lib/on-first-use.ts';
import { DeliveryError, failureSentence, isPermanentStatus, type OutgoingMessage, type Sender } from './sender.ts';

interface EmailProviderOptions {
  apiKey: string;
  /** Another API address (tests point it at a local fake); unset means the provider's own. */
  baseUrl?: string;
  from: string;
  timeoutMs: number;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** Resend error names that no retry will fix even when the SDK could not read a status code. */
const RESEND_PERMANENT = new Set([
  'validation_error',
  'missing_required_field',
  'invalid_parameter',
  'invalid_from_address',
  'invalid_idempotency_key',
  'invalid_idempotent_request',
  'invalid_api_key',
  'restricted_api_key',
  'missing_api_key',
  'invalid_access',
  'security_error',
]);

/** Resend, with the row's idempotency key: a retried row is accepted at most once (Resend keeps keys 24 h). */
export function resendSender(options: EmailProviderOptions): Sender {
  const resend = onFirstUse(async () => {
    const { Resend } = await import('resend');
    return new Resend(options.apiKey, options.baseUrl ? { baseUrl: trimSlash(options.baseUrl) } : undefined);
  });
  return {
    provider: 'resend',
    async send(message: OutgoingMessage) {
      const client = await resend();
      const { data, error } = await client.emails.send(
        {
          from: options.from,
          to: message.to,
          subject: message.subject ?? '',
          text: message.text,
          ...(message.html ? { html: message.html } : {}),
          ...(message.replyTo ? { replyTo: message.replyTo } : {}),
        },
        { idempotencyKey: message.idempotencyKey, signal: AbortSignal.timeout(options.timeoutMs) },
      );
      if (error) {
        const permanent = error.statusCode ? isPermanentStatus(error.statusCode) : RESEND_PERMANENT.has(error.name);
        // A proxy's error body may carry neither a status nor a name: the sentence says what is known.
        const status = typeof error.statusCode === 'number' ? error.statusCode : undefined;
        const sentence = failureSentence('Resend', {
          answer: status ? `HTTP ${status}` : null,
          code: typeof error.name === 'string' ? error.name : null,
          detail: typeof error.message === 'string' ? error.message : null,
        });
        throw new DeliveryError('resend', sentence, permanent);
      }
      return { provider: 'resend', messageId: data?.id ?? null };
    },
  };
}

interface SendGridFailure {
  code?: number | string;
  message?: string;
  response?: { body?: unknown };
}

function sendgridError(err: unknown): DeliveryError {
  const e = (err ?? {}) as SendGridFailure;
  const status = typeof e.code === 'number' ? e.code : undefined;
  const body = e.response?.body as { errors?: { message?: string }[] } | undefined;
  const detail =
    body?.errors
      ?.map((x) => x.message)
      .filter(Boolean)
      .join('; ') || e.message;
  const sentence = failureSentence('SendGrid', {
    answer: status ? `HTTP ${status}` : null,
    code: status ? null : typeof e.code === 'string' ? e.code : null,
    detail,
  });
  return new DeliveryError('sendgrid', sentence, isPermanentStatus(status));
}

/**
 * SendGrid through its own client instance (not the module's shared singleton), so its base URL and
 * timeout are ours alone. SendGrid has no idempotency key; the row id travels as a custom argument.
 */
export function sendgridSender(options: EmailProviderOptions): Sender {
  const sendgrid = onFirstUse(async () => {
    // Both SendGrid packages export a shared singleton and, as a property, its class; their typings
    // offer the class only as a named import, which TypeScript refuses beside `export =`.
    const { Client } = (await import('@sendgrid/client')).default as unknown as { Client: new () => typeof sendgridClient };
    const { MailService } = (await import('@sendgrid/mail')).default as unknown as {
      MailService: new () => typeof sendgridMail;
    };
    const client = new Client();
    client.setApiKey(options.apiKey);
    // setApiKey resets the base URL to SendGrid's, so the override comes after it.
    if (options.baseUrl) client.setDefaultRequest('baseUrl', `${trimSlash(options.baseUrl)}/`);
    const mail = new MailService();
    mail.setClient(client);
    mail.setTimeout(options.timeoutMs);
    return mail;
  });
  return {
    provider: 'sendgrid',
    async send(message: OutgoingMessage) {
      const mail = await sendgrid();
      try {
        const [response] = await mail.send({
          to: message.to,
          from: options.from,
          subject: message.subject ?? '',
          text: message.text,
          ...(message.html ? { html: message.html } : {}),
          ...(message.replyTo ? { replyTo: message.replyTo } : {}),
          customArgs: { notification_key: message.idempotencyKey },
        });
        const id = response.headers['x-message-id'];
        return { provider: 'sendgrid', messageId: typeof id === 'string' ? id : null };
      } catch (err) {
        throw sendgridError(err);
      }
    },
  };
}
