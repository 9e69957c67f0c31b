import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createChannels, describeChannels } from '../src/features/notifications/delivery.ts';
import { projectRoot } from '../src/paths.ts';

/** The notification variables: defaults, validation with a sentence naming the variable, and which providers they enable. */

const NAMES = [
  'WORKER_IN_PROCESS',
  'NOTIFY_POLL_MS',
  'NOTIFY_MAX_ATTEMPTS',
  'NOTIFY_BATCH_SIZE',
  'NOTIFY_CONCURRENCY',
  'NOTIFY_SEND_TIMEOUT_MS',
  'RESEND_API_KEY',
  'RESEND_BASE_URL',
  'SENDGRID_API_KEY',
  'SENDGRID_BASE_URL',
  'SENDGRID_FROM_EMAIL',
  'TWILIO_ACCOUNT_SID',
  'TWILIO_AUTH_TOKEN',
  'TWILIO_PHONE_NUMBER',
  'TWILIO_BASE_URL',
  'SMTP_URL',
  'SMTP_FROM',
];

test('defaults: the worker runs in process, 6 attempts, no provider configured', (t) => {
  const config = loadConfig({});
  t.true(config.workerInProcess);
  t.like(config.notifications, { pollMs: 1000, maxAttempts: 6, batchSize: 100, concurrency: 25, sendTimeoutMs: 10000 });
  t.is(config.notifications.resend, undefined);
  t.is(config.notifications.sendgrid, undefined);
  t.deepEqual(describeChannels(createChannels(config.notifications)), { email: [], sms: [] });
});

test('bad values stop the start with a sentence naming the variable', (t) => {
  const cases: Record<string, string>[] = [
    { TWILIO_ACCOUNT_SID: 'SK123' },
    { TWILIO_PHONE_NUMBER: '202-555-0100' },
    { SENDGRID_FROM_EMAIL: 'not an address' },
    { RESEND_BASE_URL: 'nowhere' },
    { NOTIFY_MAX_ATTEMPTS: '0' },
    { NOTIFY_POLL_MS: 'soon' },
    { WORKER_IN_PROCESS: 'maybe' },
  ];
  for (const env of cases) {
    const name = Object.keys(env)[0] as string;
    const err = t.throws(() => loadConfig(env), { instanceOf: ConfigError });
    t.regex(err?.message ?? '', new RegExp(`^Invalid ${name}:`));
  }
});

test('credentials choose the providers: Resend first, SendGrid as fallback, Twilio for SMS', (t) => {
  const config = loadConfig({
    WORKER_IN_PROCESS: 'false',
    RESEND_API_KEY: 're_x',
    SENDGRID_API_KEY: 'SG.x',
    SENDGRID_FROM_EMAIL: 'Cable Ticketing <tickets@example.com>',
    TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`,
    TWILIO_AUTH_TOKEN: 'token',
    TWILIO_PHONE_NUMBER: '+15005550006',
  });
  t.false(config.workerInProcess);
  t.deepEqual(describeChannels(createChannels(config.notifications)), { email: ['resend', 'sendgrid'], sms: ['twilio'] });
  const sendgridOnly = loadConfig({ SENDGRID_API_KEY: 'SG.x', SENDGRID_FROM_EMAIL: 'tickets@example.com' });
  t.deepEqual(describeChannels(createChannels(sendgridOnly.notifications)), { email: ['sendgrid'], sms: [] });
  const withSmtp = loadConfig({
    SENDGRID_API_KEY: 'SG.x',
    SENDGRID_FROM_EMAIL: 'tickets@example.com',
    SMTP_URL: 'smtp://relay:25',
  });
  t.deepEqual(describeChannels(createChannels(withSmtp.notifications)), { email: ['sendgrid', 'smtp'], sms: [] });
  const smtpOnly = loadConfig({ SMTP_URL: 'smtps://u:p@relay.example.com', SMTP_FROM: 'tickets@example.com' });
  t.deepEqual(describeChannels(createChannels(smtpOnly.notifications)), { email: ['smtp'], sms: [] });
  const partialTwilio = createChannels(loadConfig({ TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}` }).notifications);
  t.is(partialTwilio.unconfigured.sms, 'SMS is not configured: TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER are not set.');
});

test('.env.example documents every notification variable', (t) => {
  const example = readFileSync(path.join(projectRoot, '.env.example'), 'utf8');
  for (const name of NAMES) t.regex(example, new RegExp(`^${name}=`, 'm'), name);
});
