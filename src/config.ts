import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { parseLength } from './lib/length.ts';

/** The one place the environment is read. Mirrors `.env.example`, line for line. */

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no', '']).transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveInt = z.coerce.number().int().positive();

/** `tickets@example.com` or `Name <tickets@example.com>`. */
const FROM_ADDRESS = /^([^<>]*<)?[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>?$/;

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  APP_URL: z.url().optional(),
  DATABASE_URL: z
    .string()
    .default('sqlite:data/cable-ticketing.sqlite')
    .refine((v) => /^postgres(ql)?:\/\//.test(v) || v.startsWith('sqlite:'), {
      message: 'must start with postgres:// or sqlite:',
    }),
  DATABASE_POOL_MAX: positiveInt.default(10),
  DATABASE_PREPARED_STATEMENTS: bool.default(true),
  SECRET_KEY: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: bool.default(false),
  BODY_LIMIT_KB: positiveInt.default(100),
  AUTH_TOKEN_TTL_SECONDS: positiveInt.default(86400),
  SESSION_TTL_SECONDS: positiveInt.default(7 * 86400),
  APPROVAL_TOKEN_TTL_HOURS: positiveInt.default(168),
  RATE_LIMIT_AUTH_PER_MINUTE: positiveInt.default(10),
  RATE_LIMIT_LINK_PER_MINUTE: positiveInt.default(30),
  RUN_SEED_ON_START: bool.default(false),
  MIGRATE_ON_START: bool.default(true),
  // The demo accounts' password (npm run seed); required in production, where the fixed demo ones are refused.
  DEMO_PASSWORD: z.string().min(8, 'must be at least 8 characters').max(200, 'must be at most 200 characters').optional(),
  // /metrics wants `Authorization: Bearer <METRICS_TOKEN>` when set; unset, it is open.
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  // Comma-separated addresses told of new optics requests; unset means every admin.
  OPTICS_ALERT_EMAILS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.email({ error: (iss) => `"${String(iss.input)}" is not an email address` })))
    .optional(),
  INVENTORY_ENFORCE_STOCK: bool.default(false),
  // A reel left shorter than this after a cut is offered "keep or scrap" ("10 ft", "3 m").
  REEL_OFFCUT_MIN: z
    .string()
    .default('10 ft')
    .transform((v, ctx) => {
      const parsed = parseLength(v);
      if (parsed.ok) return parsed.mm;
      ctx.addIssue({ code: 'custom', message: parsed.error });
      return z.NEVER;
    }),
  // Webhooks: private, loopback and link-local targets are refused unless allowed; the worker's limits.
  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  WEBHOOK_TIMEOUT_MS: positiveInt.max(60_000).default(10_000),
  WEBHOOK_MAX_ATTEMPTS: positiveInt.max(30).default(10),
  WEBHOOK_DISABLE_AFTER: positiveInt.max(1000).default(10),
  // Notifications: the outbox worker and its providers.
  WORKER_IN_PROCESS: bool.default(true),
  NOTIFY_POLL_MS: positiveInt.default(1000),
  NOTIFY_MAX_ATTEMPTS: positiveInt.max(100).default(6),
  NOTIFY_BATCH_SIZE: positiveInt.max(1000).default(100),
  NOTIFY_CONCURRENCY: positiveInt.max(200).default(25),
  NOTIFY_SEND_TIMEOUT_MS: positiveInt.default(10000),
  RESEND_API_KEY: z.string().optional(),
  RESEND_BASE_URL: z.url().optional(),
  SENDGRID_API_KEY: z.string().optional(),
  SENDGRID_BASE_URL: z.url().optional(),
  SENDGRID_FROM_EMAIL: z.string().regex(FROM_ADDRESS, 'must be an email address, or "Name <address>"').optional(),
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC\w+$/, 'must start with AC (the Account SID from the Twilio console)')
    .optional(),
  TWILIO_AUTH_TOKEN: z.string().optional(),
  TWILIO_PHONE_NUMBER: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'must be in international form, e.g. +12025551234')
    .optional(),
  TWILIO_BASE_URL: z.url().optional(),
  // Email by SMTP (a relay): smtp:// (STARTTLS when offered) or smtps:// (TLS from the start), credentials in the URL.
  SMTP_URL: z.string().optional(),
  SMTP_FROM: z.string().regex(FROM_ADDRESS, 'must be an email address, or "Name <address>"').optional(),
  // Sign-in with OpenID Connect, and whether local passwords still work.
  OIDC_ISSUER: z.url({ error: 'must be the issuer URL, e.g. https://login.example.com/realms/main' }).optional(),
  OIDC_CLIENT_ID: z.string().max(500, 'must be at most 500 characters').optional(),
  OIDC_CLIENT_SECRET: z.string().max(2000, 'must be at most 2000 characters').optional(),
  OIDC_SCOPES: z.string().default('openid email profile'),
  OIDC_ADMIN_GROUPS: z.string().optional(),
  OIDC_GROUPS_CLAIM: z
    .string()
    .regex(/^[\w.:/-]{1,200}$/, 'must be a claim name such as groups or roles')
    .default('groups'),
  OIDC_BUTTON_LABEL: z.string().trim().min(1).max(60, 'must be at most 60 characters').default('Sign in with single sign-on'),
  PASSWORD_LOGIN: bool.default(true),
  // Approvals that do not stall: reminders, escalation, replies by email.
  APPROVAL_REMIND_AFTER_HOURS: positiveInt.default(4),
  APPROVAL_REMIND_MAX: z.coerce.number().int().min(0).max(100).default(3),
  APPROVAL_ESCALATE_AFTER_HOURS: z.coerce.number().int().min(0).default(24),
  APPROVAL_ESCALATION_USERS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9._-]{3,50}$/, 'must be a comma-separated list of usernames')))
    .optional(),
  INBOUND_EMAIL_DOMAIN: z
    .string()
    .regex(/^(?=.{1,200}$)([a-z0-9-]+\.)+[a-z]{2,}$/i, 'must be a domain name, e.g. reply.example.com')
    .optional(),
  INBOUND_EMAIL_SECRET: z
    .string()
    .min(16, 'must be at least 16 characters')
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
  INBOUND_EMAIL_REQUIRE_DKIM: bool.default(true),
  INBOUND_EMAIL_MAX_KB: positiveInt.max(50_000).default(2048),
});

export type Database = { client: 'pg'; url: string } | { client: 'sqlite'; filename: string };

export interface Config {
  env: 'development' | 'production' | 'test';
  isProduction: boolean;
  port: number;
  host: string;
  appUrl: string;
  database: Database;
  databasePoolMax: number;
  /** Name (prepare) hot statements on PostgreSQL; false behind a pooler that cannot keep them. */
  databasePreparedStatements: boolean;
  secretKey: string;
  /** True when SECRET_KEY was not set and a throwaway key was generated. */
  secretKeyGenerated: boolean;
  logLevel: string;
  trustProxy: boolean;
  bodyLimitBytes: number;
  authTokenTtlSeconds: number;
  sessionTtlSeconds: number;
  approvalTokenTtlHours: number;
  rateLimitAuthPerMinute: number;
  rateLimitLinkPerMinute: number;
  runSeedOnStart: boolean;
  /** npm start migrates before serving; false where a migration job does it (readiness waits for it). */
  migrateOnStart: boolean;
  /** DEMO_PASSWORD: the demo accounts' password; unset, fixed demo-only ones (refused in production). */
  demoPassword?: string;
  /** METRICS_TOKEN: the bearer token /metrics requires; unset, /metrics is open. */
  metricsToken?: string;
  /** Who hears of a new optics request; empty means every admin. */
  opticsAlertEmails: string[];
  /** Refuse (409) a fulfilment that would take a SKU's on-hand below zero. */
  inventoryEnforceStock: boolean;
  /** REEL_OFFCUT_MIN in millimetres: below it a reel is offered "keep or scrap" after a cut. */
  reelOffcutMinMm: number;
  /** Run the notification worker inside `npm start` (else run `npm run worker`). */
  workerInProcess: boolean;
  notifications: NotificationSettings;
  webhooks: WebhookSettings;
  /** Sign-in with OpenID Connect; absent when OIDC_ISSUER is not set. */
  oidc?: OidcSettings;
  /** PASSWORD_LOGIN: local passwords work (sign-in page and POST /api/login). */
  passwordLogin: boolean;
  approvals: ApprovalSettings;
}

/** Reminders, escalation and replies by email (DESIGN.md §15). */
export interface ApprovalSettings {
  remindAfterHours: number;
  /** 0: no reminders. */
  remindMax: number;
  /** 0: no escalation. */
  escalateAfterHours: number;
  /** Usernames offered a request nobody decided in time; empty means every admin. Checked at start (main.ts). */
  escalationUsers: string[];
  /** Replies by email are on when a domain is set (and INBOUND_EMAIL_SECRET with it). */
  inboundDomain?: string;
  inboundSecret?: string;
  /** Accept a reply only when SendGrid's DKIM (or SPF) result passes for the sender's domain. */
  inboundRequireDkim: boolean;
  inboundMaxBytes: number;
}

/** The OpenID provider and this app's client at it (OIDC_* variables). */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** Absent for a public client (PKCE alone). */
  clientSecret?: string;
  scopes: string[];
  /** Values of the groups claim that make an account an admin; empty: roles are managed in the app only. */
  adminGroups: string[];
  groupsClaim: string;
  buttonLabel: string;
}

/** Webhook delivery (the worker's batch, concurrency and poll interval are NOTIFY_*'s). */
export interface WebhookSettings {
  /** WEBHOOK_ALLOW_PRIVATE: deliver to private, loopback and link-local addresses too (tests, one private network). */
  allowPrivate: boolean;
  /** One attempt's limit, connection to the last byte read. */
  timeoutMs: number;
  /** Attempts per delivery before it is given up. */
  maxAttempts: number;
  /** A subscription is disabled (and admins told) after this many deliveries in a row were given up. */
  disableAfter: number;
}

/** The outbox worker's knobs and the providers' credentials (absent: that provider is not used). */
export interface NotificationSettings {
  pollMs: number;
  maxAttempts: number;
  batchSize: number;
  concurrency: number;
  sendTimeoutMs: number;
  fromEmail?: string;
  resend?: { apiKey: string; baseUrl?: string };
  sendgrid?: { apiKey: string; baseUrl?: string };
  twilio: { accountSid?: string; authToken?: string; phoneNumber?: string; baseUrl?: string };
  /** SMTP_URL and the sender it uses (SMTP_FROM, else SENDGRID_FROM_EMAIL). The URL holds the password: never log it. */
  smtp?: { url: string; from?: string };
}

/** Thrown with one line that names the variable; `main` prints it and exits. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseDatabaseUrl(url: string, cwd = process.cwd()): Database {
  if (url.startsWith('sqlite:')) {
    const raw = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!raw) throw new ConfigError('DATABASE_URL: sqlite: needs a file path, e.g. sqlite:data/app.sqlite');
    return { client: 'sqlite', filename: raw === ':memory:' ? raw : path.resolve(cwd, raw) };
  }
  return { client: 'pg', url };
}

/**
 * For the commands (`npm start`, the worker, the CLIs): the configuration, or one line naming the bad
 * variable on stderr and exit code 1 (never a stack trace for a typo in the environment).
 */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`Configuration error: ${err.message}\n`);
    process.exit(1);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const blanksRemoved = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = schema.safeParse(blanksRemoved);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(`Invalid ${name}: ${issue?.message ?? 'bad value'}`);
  }
  const e = parsed.data;
  const isProduction = e.NODE_ENV === 'production';
  if (isProduction && !e.SECRET_KEY) {
    throw new ConfigError('Invalid SECRET_KEY: required when NODE_ENV=production (use 32+ random characters)');
  }
  if (e.SECRET_KEY !== undefined && e.SECRET_KEY.length < 16) {
    throw new ConfigError('Invalid SECRET_KEY: must be at least 16 characters');
  }
  if (e.INBOUND_EMAIL_DOMAIN && !e.INBOUND_EMAIL_SECRET) {
    throw new ConfigError('Invalid INBOUND_EMAIL_SECRET: required when INBOUND_EMAIL_DOMAIN is set (16+ random characters)');
  }
  const port = e.PORT;
  if (e.SMTP_URL !== undefined) checkSmtpUrl(e.SMTP_URL);
  const oidc = oidcSettings(e);
  if (!e.PASSWORD_LOGIN && !oidc) {
    throw new ConfigError('Invalid PASSWORD_LOGIN: false needs OIDC_ISSUER (otherwise nobody could sign in)');
  }
  return {
    env: e.NODE_ENV,
    isProduction,
    port,
    host: e.HOST,
    appUrl: (e.APP_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    database: parseDatabaseUrl(e.DATABASE_URL),
    databasePoolMax: e.DATABASE_POOL_MAX,
    databasePreparedStatements: e.DATABASE_PREPARED_STATEMENTS,
    secretKey: e.SECRET_KEY ?? randomBytes(32).toString('base64url'),
    secretKeyGenerated: !e.SECRET_KEY,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    bodyLimitBytes: e.BODY_LIMIT_KB * 1024,
    authTokenTtlSeconds: e.AUTH_TOKEN_TTL_SECONDS,
    sessionTtlSeconds: e.SESSION_TTL_SECONDS,
    approvalTokenTtlHours: e.APPROVAL_TOKEN_TTL_HOURS,
    rateLimitAuthPerMinute: e.RATE_LIMIT_AUTH_PER_MINUTE,
    rateLimitLinkPerMinute: e.RATE_LIMIT_LINK_PER_MINUTE,
    runSeedOnStart: e.RUN_SEED_ON_START,
    migrateOnStart: e.MIGRATE_ON_START,
    demoPassword: e.DEMO_PASSWORD,
    metricsToken: e.METRICS_TOKEN,
    opticsAlertEmails: (e.OPTICS_ALERT_EMAILS ?? []).filter(
      (a, i, all) => all.findIndex((b) => b.toLowerCase() === a.toLowerCase()) === i,
    ),
    inventoryEnforceStock: e.INVENTORY_ENFORCE_STOCK,
    reelOffcutMinMm: e.REEL_OFFCUT_MIN,
    workerInProcess: e.WORKER_IN_PROCESS,
    notifications: {
      pollMs: e.NOTIFY_POLL_MS,
      maxAttempts: e.NOTIFY_MAX_ATTEMPTS,
      batchSize: e.NOTIFY_BATCH_SIZE,
      concurrency: e.NOTIFY_CONCURRENCY,
      sendTimeoutMs: e.NOTIFY_SEND_TIMEOUT_MS,
      fromEmail: e.SENDGRID_FROM_EMAIL,
      resend: e.RESEND_API_KEY ? { apiKey: e.RESEND_API_KEY, baseUrl: e.RESEND_BASE_URL } : undefined,
      sendgrid: e.SENDGRID_API_KEY ? { apiKey: e.SENDGRID_API_KEY, baseUrl: e.SENDGRID_BASE_URL } : undefined,
      twilio: {
        accountSid: e.TWILIO_ACCOUNT_SID,
        authToken: e.TWILIO_AUTH_TOKEN,
        phoneNumber: e.TWILIO_PHONE_NUMBER,
        baseUrl: e.TWILIO_BASE_URL,
      },
      smtp: e.SMTP_URL ? { url: e.SMTP_URL, from: e.SMTP_FROM ?? e.SENDGRID_FROM_EMAIL } : undefined,
    },
    approvals: {
      remindAfterHours: e.APPROVAL_REMIND_AFTER_HOURS,
      remindMax: e.APPROVAL_REMIND_MAX,
      escalateAfterHours: e.APPROVAL_ESCALATE_AFTER_HOURS,
      escalationUsers: [...new Set((e.APPROVAL_ESCALATION_USERS ?? []).map((u) => u.toLowerCase()))],
      inboundDomain: e.INBOUND_EMAIL_DOMAIN?.toLowerCase(),
      inboundSecret: e.INBOUND_EMAIL_SECRET,
      inboundRequireDkim: e.INBOUND_EMAIL_REQUIRE_DKIM,
      inboundMaxBytes: e.INBOUND_EMAIL_MAX_KB * 1024,
    },
    oidc,
    passwordLogin: e.PASSWORD_LOGIN,
    webhooks: {
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      disableAfter: e.WEBHOOK_DISABLE_AFTER,
    },
  };
}

/** A list variable: values separated by commas (or, for scopes, spaces), blanks dropped. */
const listOf = (value: string | undefined, separators = /,/): string[] =>
  (value ?? '')
    .split(separators)
    .map((s) => s.trim())
    .filter(Boolean);

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/** SMTP_URL's shape, checked at start. The message never repeats the URL: it holds the password. */
function checkSmtpUrl(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('Invalid SMTP_URL: must be a URL such as smtp://user:password@smtp.example.com:587');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new ConfigError('Invalid SMTP_URL: must start with smtp:// (STARTTLS) or smtps:// (TLS)');
  }
  if (!url.hostname) throw new ConfigError('Invalid SMTP_URL: names no host, e.g. smtp://user:password@smtp.example.com:587');
  if (url.password && !url.username) throw new ConfigError('Invalid SMTP_URL: has a password but no user name');
}

/** The OIDC_* variables: all of them hang on OIDC_ISSUER, and an issuer needs a client id. */
function oidcSettings(e: z.infer<typeof schema>): OidcSettings | undefined {
  if (!e.OIDC_ISSUER) {
    const orphan = (['OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_ADMIN_GROUPS'] as const).find((k) => e[k] !== undefined);
    if (orphan) throw new ConfigError(`Invalid OIDC_ISSUER: required when ${orphan} is set`);
    return undefined;
  }
  const issuer = new URL(e.OIDC_ISSUER);
  if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && LOOPBACK.test(issuer.hostname))) {
    throw new ConfigError('Invalid OIDC_ISSUER: must be an https:// address (http:// only on localhost)');
  }
  if (issuer.search || issuer.hash) throw new ConfigError('Invalid OIDC_ISSUER: must have no query string or fragment');
  if (!e.OIDC_CLIENT_ID) throw new ConfigError('Invalid OIDC_CLIENT_ID: required when OIDC_ISSUER is set');
  const scopes = [...new Set(listOf(e.OIDC_SCOPES, /[\s,]+/))];
  if (!scopes.includes('openid')) throw new ConfigError('Invalid OIDC_SCOPES: must include openid');
  if (scopes.some((s) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) {
    throw new ConfigError('Invalid OIDC_SCOPES: scopes are words of printable characters, separated by spaces');
  }
  return {
    // As written: the issuer's own identifier must match exactly (discovery checks it).
    issuer: e.OIDC_ISSUER,
    clientId: e.OIDC_CLIENT_ID,
    clientSecret: e.OIDC_CLIENT_SECRET,
    scopes,
    adminGroups: listOf(e.OIDC_ADMIN_GROUPS),
    groupsClaim: e.OIDC_GROUPS_CLAIM,
    buttonLabel: e.OIDC_BUTTON_LABEL,
  };
}
