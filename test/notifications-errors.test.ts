import test, { type ExecutionContext } from 'ava';
import { NotificationWorker } from '../src/features/notifications/worker.ts';
import { startApp } from './support/app.ts';
import { createUser, tokenClient } from './support/factories.ts';
import { type Behaviour, error, hang, type Provider, startFakeProviders } from './support/fake-providers.ts';
import { createTicket } from './support/tickets.ts';

/**
 * Every provider's failure reads as a sentence in the notification log and the worker's log line:
 * who failed, what it answered (when it answered), what it said. Including the cases a provider's
 * answer leaves things out: an error body without status or name (it once read "Resend undefined:
 * …"), an empty body, no answer at all, a timeout.
 */

const UNREACHABLE = 'http://127.0.0.1:9';

/** Sends one request's email and SMS with the providers answering as told; returns the stored error texts. */
async function failWith(
  t: ExecutionContext,
  behaviour: Partial<Record<Provider, Behaviour>>,
  env: Record<string, string> = {},
): Promise<{ email: string; sms: string; logs: string }> {
  const fake = await startFakeProviders();
  const app = await startApp({ ...fake.env(['resend', 'sendgrid', 'twilio']), NOTIFY_SEND_TIMEOUT_MS: '300', ...env });
  t.teardown(async () => {
    await app.close();
    await fake.close();
  });
  for (const [provider, b] of Object.entries(behaviour)) fake.respond(provider as Provider, b as Behaviour);
  await createUser(app.db, { username: 'tech' });
  const assignee = await createUser(app.db, { username: 'stock', phone: '+12025550142' });
  const ticket = await createTicket(await tokenClient(app.url, 'tech'), { assigned_to_id: assignee.id });
  const worker = new NotificationWorker({ db: app.db, logger: app.logger, settings: app.config.notifications });
  await worker.runOnce();
  await worker.stop();
  const rows = await app.db('notifications').where({ ticket_id: ticket.id });
  const text = (channel: string) => String(rows.find((r) => r.channel === channel)?.error_message);
  return { email: text('email'), sms: text('sms'), logs: app.logs.join('\n') };
}

/** Each provider's part of a stored error ("a | b") is a sentence: a capital, no undefined/null/[object], a full stop. */
function assertSentences(t: ExecutionContext, stored: string, expected: (string | RegExp)[]) {
  const parts = stored.split(' | ');
  t.is(parts.length, expected.length, stored);
  parts.forEach((part, i) => {
    const want = expected[i] as string | RegExp;
    if (typeof want === 'string') t.is(part, want);
    else t.regex(part, want);
    t.regex(part, /^[A-Z][^|]*[.!?]$/, `a sentence: ${part}`);
    t.notRegex(part, /\bundefined\b|\bnull\b|\[object /, part);
  });
}

test('an error body with no status or name (as a proxy sends) still reads as a sentence', async (t) => {
  const { email, logs } = await failWith(t, {
    resend: { kind: 'raw', status: 502, body: '{"message":"Bad gateway from the proxy"}' },
    sendgrid: { kind: 'raw', status: 502, body: '{}' },
  });
  assertSentences(t, email, ['Resend failed: Bad gateway from the proxy.', 'SendGrid answered HTTP 502: Bad Gateway.']);
  t.true(logs.includes('Resend failed: Bad gateway from the proxy.'), 'the worker logs the same sentence');
  t.false(logs.includes('Resend undefined'));
});

test('an empty error body says that nothing was said', async (t) => {
  const { email } = await failWith(t, {
    resend: { kind: 'raw', status: 500, body: '{}' },
    sendgrid: { kind: 'raw', status: 500, body: '{"errors":[]}' },
  });
  assertSentences(t, email, ['Resend failed: no details given.', 'SendGrid answered HTTP 500: Internal Server Error.']);
});

test('answered errors name the status and the provider code', async (t) => {
  const { email, sms } = await failWith(t, {
    resend: error(500, 'upstream trouble'),
    sendgrid: error(503, 'Service Unavailable'),
    twilio: error(503, 'Service is unavailable', 20500),
  });
  assertSentences(t, email, [
    'Resend answered HTTP 500 (internal_server_error): upstream trouble.',
    'SendGrid answered HTTP 503: Service Unavailable.',
  ]);
  assertSentences(t, sms, ['Twilio answered HTTP 503 (code 20500): Service is unavailable.']);
});

test('providers that cannot be reached, or do not answer in time, are sentences too', async (t) => {
  const { email, sms } = await failWith(t, { sendgrid: hang }, { RESEND_BASE_URL: UNREACHABLE, TWILIO_BASE_URL: UNREACHABLE });
  assertSentences(t, email, [
    'Resend failed (application_error): Unable to fetch data. The request could not be resolved.',
    /^SendGrid failed(?: \([\w ]+\))?: .*timeout.*\.$/i,
  ]);
  assertSentences(t, sms, [/^Twilio failed \(ECONNREFUSED\): .*ECONNREFUSED.*\.$/]);
});
