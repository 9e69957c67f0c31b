import { scrubText } from '../../lib/addresses.ts';
import type { Channel } from './outbox.ts';

/** One stored message on its way out: the worker never renders, it delivers what the row holds. */
export interface OutgoingMessage {
  id: number;
  channel: Channel;
  to: string;
  subject: string | null;
  text: string;
  html: string | null;
  /** Where the recipient's reply goes (email only); null: to the sender. */
  replyTo?: string | null;
  /** Stable per row: a provider that honours it (Resend) sends a retried row at most once. */
  idempotencyKey: string;
}

export interface Sent {
  provider: string;
  messageId: string | null;
}

/**
 * A provider refused or could not be reached. `permanent` errors (a 4xx: bad address, bad number,
 * rejected credentials) fail the row at once; the others are retried with backoff. The message is
 * already scrubbed of addresses and phone numbers.
 */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(
    readonly provider: string,
    message: string,
    readonly permanent: boolean,
  ) {
    super(scrubText(message));
  }
}

export interface FailureParts {
  /** What the provider answered, when it answered at all: `HTTP 422`, an SMTP reply code. */
  answer?: string | null;
  /** The provider's own error name or code (`validation_error`, 21211, `EAUTH`). */
  code?: string | number | null;
  /** What it said, as it said it. */
  detail?: string | null;
}

/**
 * A provider's failure as one sentence for the log and the admin page, whatever the provider left
 * out: "Resend answered HTTP 422 (validation_error): The to field is invalid.", or "Resend failed: no
 * details given." for an error body with neither status nor name (it once read "Resend undefined: …").
 */
export function failureSentence(provider: string, parts: FailureParts): string {
  const code = parts.code === null || parts.code === undefined || parts.code === '' ? '' : ` (${String(parts.code)})`;
  const detail = (parts.detail ?? '').replace(/\s+/g, ' ').trim() || 'no details given';
  const head = parts.answer ? `${provider} answered ${parts.answer}${code}` : `${provider} failed${code}`;
  return `${head}: ${detail}${/[.!?]$/.test(detail) ? '' : '.'}`;
}

/** 4xx means "this request will never work" except timeouts, conflicts of concurrent requests and rate limits. */
export const isPermanentStatus = (status: number | null | undefined): boolean =>
  typeof status === 'number' && status >= 400 && status < 500 && ![408, 409, 425, 429].includes(status);

export interface Sender {
  readonly provider: string;
  send(message: OutgoingMessage): Promise<Sent>;
  /** Lets go of kept connections (SMTP's pool) when the worker stops. */
  close?(): Promise<void> | void;
}
