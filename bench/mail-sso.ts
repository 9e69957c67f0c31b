/**
 * `npx tsx bench/mail-sso.ts [--messages 1000] [--sign-ins 50] [--label x]`
 *
 * Two figures of issue #24, by hand, never in `npm test`:
 *   - the SMTP drain: `--messages` queued emails delivered by the outbox worker (batch 100, 25 at once)
 *     through nodemailer's pool into a local SMTP server (smtp-server; every message parsed, as a relay
 *     would), pooled (5 connections) and with a new connection per message (`?pool=false`);
 *   - single sign-on: `--sign-ins` full authorization-code flows in a row through the app's routes and
 *     a local OpenID provider (oidc-provider), with no JavaScript browser in between; the median and p95
 *     of one sign-in (start, provider, callback: code exchange, ID token check, userinfo, account).
 * Writes bench/results/<date>-mail-sso[-label].json with the host it ran on.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { enqueue, type OutboxMessage } from '../src/features/notifications/outbox.ts';
import { NotificationWorker } from '../src/features/notifications/worker.ts';
import { projectRoot } from '../src/paths.ts';
import { freshDatabase, startApp } from '../test/support/app.ts';
import { SsoBrowser, startIdp } from '../test/support/oidc.ts';
import { startSmtpServer } from '../test/support/smtp.ts';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000' },
    'sign-ins': { type: 'string', default: '50' },
    label: { type: 'string' },
  },
});
const messages = Number(args.messages);
const signIns = Number(args['sign-ins']);

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const round = (n: number) => Math.round(n * 10) / 10;

async function smtpDrain(query: string) {
  const smtp = await startSmtpServer();
  const database = await freshDatabase();
  const { migrateLatest } = await import('../src/db/index.ts');
  await migrateLatest(database.db);
  const settings = loadConfig({ SMTP_URL: smtp.url({ query }), SMTP_FROM: 'Bench <bench@example.test>' }).notifications;
  const html = `<p>${'Cable request body. '.repeat(40)}</p>`;
  const rows: OutboxMessage[] = Array.from({ length: messages }, (_, i) => ({
    notification_type: 'bench',
    channel: 'email',
    recipient: { id: null, email: `person${i}@example.test`, phone: null },
    subject: `Bench message ${i}`,
    text: 'Cable request body. '.repeat(40),
    html,
  }));
  for (let i = 0; i < rows.length; i += 200) await enqueue(database.db, rows.slice(i, i + 200));
  const worker = new NotificationWorker({ db: database.db, logger: pino({ level: 'silent' }), settings });
  const started = process.hrtime.bigint();
  let sent = 0;
  while (sent < messages) {
    const report = await worker.runOnce();
    if (report.claimed === 0) break;
    sent += report.sent;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await worker.stop();
  await smtp.close();
  await database.drop();
  if (smtp.received.length !== messages) throw new Error(`the relay received ${smtp.received.length} of ${messages}`);
  return { messages, seconds: round(seconds), per_second: round(messages / seconds) };
}

async function ssoSignIns() {
  const idp = await startIdp();
  const app = await startApp({ ...idp.env(), LOG_LEVEL: 'warn' }, { appUrlFromPort: true });
  idp.register(app.url);
  idp.accounts.set('bench', { email: 'bench@example.test', email_verified: true, preferred_username: 'bench' });
  const times: number[] = [];
  // One warm-up sign-in (discovery, JWKS, first account), then each in a fresh browser.
  for (let i = 0; i <= signIns; i += 1) {
    const browser = new SsoBrowser(app.url, idp.issuer);
    const started = process.hrtime.bigint();
    const { reply } = await browser.signIn('bench');
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (reply.status !== 303) throw new Error(`sign-in answered ${reply.status}`);
    if (i > 0) times.push(ms);
  }
  await app.close();
  await idp.close();
  times.sort((a, b) => a - b);
  return { sign_ins: signIns, median_ms: round(quantile(times, 0.5)), p95_ms: round(quantile(times, 0.95)) };
}

const pooled = await smtpDrain('');
const unpooled = await smtpDrain('?pool=false');
const sso = await ssoSignIns();
const cpus = os.cpus();
const result = {
  date: new Date().toISOString(),
  host: { hostname: os.hostname(), cpus: cpus.length, cpu_model: cpus[0]?.model ?? 'unknown', node: process.version },
  smtp_drain: { pooled_5_connections: pooled, connection_per_message: unpooled },
  single_sign_on: sso,
};
const day = result.date.slice(0, 10);
const file = path.join(projectRoot, 'bench/results', `${day}-mail-sso${args.label ? `-${args.label}` : ''}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
console.log(`written to ${path.relative(projectRoot, file)}`);
process.exit(0);
