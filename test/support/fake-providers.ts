import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * One local HTTP server that speaks just enough of the three provider APIs for the real SDKs:
 * Resend `POST /emails`, SendGrid `POST /v3/mail/send`, Twilio `POST /2010-04-01/Accounts/:sid/Messages.json`.
 * It records every request as the SDK sent it, and answers as told: success (the default), an error
 * status with the provider's error body, a hang (for timeouts), or held until a test releases it.
 * Like Resend, it accepts an Idempotency-Key once and replays the first answer for repeats.
 */

export type Provider = 'resend' | 'sendgrid' | 'twilio';

export interface Recorded {
  provider: Provider;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** JSON (Resend, SendGrid) or form fields (Twilio). */
  // biome-ignore lint/suspicious/noExplicitAny: whatever the SDK sent; tests read fields by the provider's API names.
  body: any;
  /** The HTTP status the fake answered. */
  status: number;
  /** Resend: a repeat of an Idempotency-Key already accepted (answered without "sending" again). */
  replayed: boolean;
}

export type Behaviour =
  | { kind: 'ok' }
  | { kind: 'error'; status: number; code?: number | string; message?: string }
  | { kind: 'hang' }
  /** This status and body exactly, as a proxy in front of the provider might answer. */
  | { kind: 'raw'; status: number; body: string };

export const ok: Behaviour = { kind: 'ok' };
export const hang: Behaviour = { kind: 'hang' };
export const error = (status: number, message?: string, code?: number | string): Behaviour => ({
  kind: 'error',
  status,
  message,
  code,
});

export const TWILIO_SID = `AC${'0123456789abcdef'.repeat(2)}`;
export const TWILIO_TOKEN = 'twilio-test-auth-token-0123456789';
export const TWILIO_FROM = '+15005550006';
export const FROM_EMAIL = 'tickets@example.test';
export const RESEND_KEY = 're_test_0123456789';
export const SENDGRID_KEY = 'SG.test-0123456789';

export interface FakeProviders {
  url: string;
  requests: Recorded[];
  /** Requests one provider received, in order. */
  of(provider: Provider): Recorded[];
  /** Answer this way from now on (`times` omitted) or for the next `times` requests, then as before. */
  respond(provider: Provider, behaviour: Behaviour, times?: number): void;
  /** Hold every request to `provider` until `release()` (then they are answered as planned). */
  hold(provider: Provider): { release(): void };
  /** Resolves with the next request `provider` receives (already received ones do not count). */
  next(provider: Provider): Promise<Recorded>;
  /** The environment that points the app's SDKs here; omit a provider to leave it unconfigured. */
  env(providers?: Provider[]): Record<string, string>;
  close(): Promise<void>;
}

const routeOf = (method: string, path: string): Provider | undefined => {
  if (method !== 'POST') return undefined;
  if (path === '/emails') return 'resend';
  if (path === '/v3/mail/send') return 'sendgrid';
  if (/^\/2010-04-01\/Accounts\/[^/]+\/Messages\.json$/.test(path)) return 'twilio';
  return undefined;
};

function errorBody(provider: Provider, b: Extract<Behaviour, { kind: 'error' }>) {
  const message = b.message ?? `fake ${provider} error ${b.status}`;
  if (provider === 'resend')
    return { statusCode: b.status, message, name: b.code ?? (b.status >= 500 ? 'internal_server_error' : 'validation_error') };
  if (provider === 'sendgrid') return { errors: [{ message, field: null, help: null }] };
  return { code: b.code ?? 20001, message, more_info: 'https://www.twilio.com/docs/errors', status: b.status };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeProviders(): Promise<FakeProviders> {
  const requests: Recorded[] = [];
  const standing: Record<Provider, Behaviour> = { resend: ok, sendgrid: ok, twilio: ok };
  const queued: Record<Provider, Behaviour[]> = { resend: [], sendgrid: [], twilio: [] };
  const gates: Partial<Record<Provider, Promise<void>>> = {};
  const idempotent = new Map<string, string>();
  const events = new EventEmitter();
  const hanging = new Set<ServerResponse>();

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };

  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const provider = routeOf(req.method ?? '', path);
    const raw = await readBody(req);
    if (!provider) return send(res, 404, { message: 'not found' });
    const body = provider === 'twilio' ? Object.fromEntries(new URLSearchParams(raw)) : raw ? JSON.parse(raw) : undefined;
    const record: Recorded = { provider, method: req.method ?? '', path, headers: req.headers, body, status: 0, replayed: false };
    requests.push(record);
    events.emit(provider, record);
    await gates[provider];
    const behaviour = queued[provider].shift() ?? standing[provider];
    if (behaviour.kind === 'hang') {
      hanging.add(res);
      return;
    }
    if (behaviour.kind === 'raw') {
      record.status = behaviour.status;
      res.writeHead(behaviour.status, { 'content-type': 'application/json' });
      return res.end(behaviour.body);
    }
    if (behaviour.kind === 'error') {
      record.status = behaviour.status;
      return send(res, behaviour.status, errorBody(provider, behaviour));
    }
    if (provider === 'resend') {
      const key = req.headers['idempotency-key'];
      const known = typeof key === 'string' ? idempotent.get(key) : undefined;
      record.replayed = Boolean(known);
      const id = known ?? randomUUID();
      if (typeof key === 'string') idempotent.set(key, id);
      record.status = 200;
      return send(res, 200, { id });
    }
    if (provider === 'sendgrid') {
      record.status = 202;
      res.writeHead(202, { 'x-message-id': randomBytes(11).toString('base64url') });
      return res.end();
    }
    const sid = `SM${randomBytes(16).toString('hex')}`;
    record.status = 201;
    return send(res, 201, {
      sid,
      account_sid: path.split('/')[3],
      to: body.To,
      from: body.From,
      body: body.Body,
      status: 'queued',
      num_segments: '1',
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    of: (provider) => requests.filter((r) => r.provider === provider),
    respond(provider, behaviour, times) {
      if (times === undefined) standing[provider] = behaviour;
      else for (let i = 0; i < times; i += 1) queued[provider].push(behaviour);
    },
    hold(provider) {
      let release = () => {};
      gates[provider] = new Promise<void>((resolve) => {
        release = () => {
          delete gates[provider];
          resolve();
        };
      });
      return { release };
    },
    next: (provider) => new Promise((resolve) => events.once(provider, resolve)),
    env(providers = ['resend', 'sendgrid', 'twilio']) {
      const env: Record<string, string> = { SENDGRID_FROM_EMAIL: FROM_EMAIL };
      if (providers.includes('resend')) Object.assign(env, { RESEND_API_KEY: RESEND_KEY, RESEND_BASE_URL: url });
      if (providers.includes('sendgrid')) Object.assign(env, { SENDGRID_API_KEY: SENDGRID_KEY, SENDGRID_BASE_URL: url });
      if (providers.includes('twilio')) {
        Object.assign(env, {
          TWILIO_ACCOUNT_SID: TWILIO_SID,
          TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
          TWILIO_PHONE_NUMBER: TWILIO_FROM,
          TWILIO_BASE_URL: url,
        });
      }
      return env;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
