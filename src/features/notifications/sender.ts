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

/** 4xx means "this request will never work" except timeouts, conflicts of concurrent requests and rate limits. */
export const isPermanentStatus = (status: number | null | undefined): boolean =>
  typeof status === 'number' && status >= 400 && status < 500 && ![408, 409, 425, 429].includes(status);

export interface Sender {
  readonly provider: string;
  send(message: OutgoingMessage): Promise<Sent>;
}
