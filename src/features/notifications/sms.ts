import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { onFirstUse } from '../../lib/on-first-use.ts';
import { DeliveryError, failureSentence, isPermanentStatus, type OutgoingMessage, type Sender } from './sender.ts';

/**
 * Twilio's client builds `https://api.twilio.com/...` URLs itself; this HTTP client sends each request
 * to another base URL instead (a local fake in tests), keeping the path, auth and body as the SDK made them.
 */
function rebasedRequestClient(twilio: typeof import('twilio'), base: URL, options: RequestClient.RequestClientOptions) {
  return new (class extends twilio.RequestClient {
    override request<TData>(opts: RequestClient.RequestOptions<TData>) {
      const target = new URL(opts.uri);
      target.protocol = base.protocol;
      target.host = base.host;
      target.pathname = `${base.pathname.replace(/\/+$/, '')}${target.pathname}`;
      return super.request<TData>({ ...opts, uri: target.href });
    }
  })(options);
}

interface TwilioOptions {
  accountSid: string;
  authToken: string;
  from: string;
  baseUrl?: string;
  timeoutMs: number;
}

interface TwilioFailure {
  status?: number;
  code?: number | string;
  message?: string;
}

function twilioError(err: unknown): DeliveryError {
  const e = (err ?? {}) as TwilioFailure;
  // A RestException has the HTTP status and Twilio's own code (21211: invalid 'To' number, …).
  const status = typeof e.status === 'number' ? e.status : undefined;
  const sentence = failureSentence('Twilio', {
    answer: status ? `HTTP ${status}` : null,
    code: e.code === undefined || e.code === null ? null : typeof e.code === 'number' ? `code ${e.code}` : e.code,
    detail: e.message,
  });
  return new DeliveryError('twilio', sentence, isPermanentStatus(status));
}

/**
 * SMS through Twilio's Messages API. Twilio takes no idempotency key: a row is sent once because only
 * the worker holding its claim sends it (see worker.ts), not because Twilio would drop a repeat.
 */
export function twilioSender(options: TwilioOptions): Sender {
  const twilioClient = onFirstUse(async () => {
    const { default: twilio } = await import('twilio');
    const httpOptions = { timeout: options.timeoutMs, keepAlive: true };
    const httpClient = options.baseUrl
      ? rebasedRequestClient(twilio, new URL(options.baseUrl), httpOptions)
      : new twilio.RequestClient(httpOptions);
    return twilio(options.accountSid, options.authToken, { httpClient });
  });
  return {
    provider: 'twilio',
    async send(message: OutgoingMessage) {
      const client = await twilioClient();
      try {
        const sent = await client.messages.create({ to: message.to, from: options.from, body: message.text });
        return { provider: 'twilio', messageId: sent.sid ?? null };
      } catch (err) {
        throw twilioError(err);
      }
    },
  };
}
