import type { ConnectionOptions } from 'node:tls';
import type { Transporter } from 'nodemailer';
import { onFirstUse } from '../../lib/on-first-use.ts';
import { DeliveryError, failureSentence, type OutgoingMessage, type Sender } from './sender.ts';

export interface SmtpOptions {
  /** SMTP_URL: `smtp://` (STARTTLS when the server offers it) or `smtps://` (TLS from the start); may carry user:password. */
  url: string;
  from: string;
  timeoutMs: number;
  /** TLS settings over the URL's (tests trust their own certificate); unset in the app. */
  tls?: ConnectionOptions;
}

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

/** Errors nodemailer raises before talking to the server about this message: no retry changes them. */
const REFUSED_BEFORE_SENDING = new Set(['EENVELOPE', 'EMESSAGE']);

/** The URL's password, as typed and decoded, to keep out of error texts whatever a server echoes. */
function secretsOf(url: string): string[] {
  try {
    const raw = new URL(url).password;
    const decoded = decodeURIComponent(raw);
    return [...new Set([raw, decoded])].filter((s) => s.length >= 4);
  } catch {
    return [];
  }
}

/**
 * SMTP reply codes decide the outbox's retry rule: 4xx (mailbox busy, greylisting, rate limits) is
 * tried again later, 5xx (no such mailbox, relaying denied, bad credentials) fails the row. No reply at
 * all (refused connection, timeout, TLS trouble) is transient: the relay may be back soon.
 */
function smtpError(err: unknown, secrets: string[]): DeliveryError {
  const e = (err ?? {}) as SmtpFailure;
  const reply = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  let detail = (typeof e.response === 'string' && e.response) || e.message || '';
  for (const secret of secrets) detail = detail.split(secret).join('[redacted]');
  const permanent = reply !== undefined ? reply >= 500 && reply < 600 : REFUSED_BEFORE_SENDING.has(e.code ?? '');
  const sentence = failureSentence('The SMTP server', { answer: reply ? String(reply) : null, code: e.code, detail });
  return new DeliveryError('smtp', sentence, permanent);
}

/** `Name <a@b.example>` or `a@b.example` → `b.example`, for the Message-ID's right-hand side. */
const domainOf = (from: string) => /@([^\s<>@]+?)>?$/.exec(from.trim())?.[1] ?? 'localhost';

/**
 * Email through an SMTP relay with nodemailer: a small pool of kept connections (SMTP_URL may change it,
 * e.g. `?maxConnections=2` or `?pool=false`), STARTTLS whenever the server offers it. The Message-ID
 * is derived from the row's idempotency key, so a retried row carries the same one and mail systems
 * that deduplicate by Message-ID see a repeat, not a second message.
 */
export function smtpSender(options: SmtpOptions): Sender {
  const secrets = secretsOf(options.url);
  let made: Transporter | undefined;
  const transport = onFirstUse(async () => {
    const { default: nodemailer } = await import('nodemailer');
    made = nodemailer.createTransport({
      url: options.url,
      pool: true,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      // nodemailer writes nothing of its own (its debug log would show the AUTH exchange).
      logger: false,
      debug: false,
      ...(options.tls ? { tls: options.tls } : {}),
    });
    return made;
  });
  const domain = domainOf(options.from);
  return {
    provider: 'smtp',
    async send(message: OutgoingMessage) {
      const smtp = await transport();
      try {
        const info = await smtp.sendMail({
          from: options.from,
          to: message.to,
          subject: message.subject ?? '',
          text: message.text,
          ...(message.html ? { html: message.html } : {}),
          ...(message.replyTo ? { replyTo: message.replyTo } : {}),
          messageId: `<${message.idempotencyKey}@${domain}>`,
        });
        return { provider: 'smtp', messageId: typeof info.messageId === 'string' ? info.messageId.slice(0, 100) : null };
      } catch (err) {
        throw smtpError(err, secrets);
      }
    },
    close() {
      made?.close();
    },
  };
}
