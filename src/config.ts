import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';

/** The one place the environment is read. Mirrors `.env.example`, line for line. */

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no', '']).transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveInt = z.coerce.number().int().positive();

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
  const port = e.PORT;
  return {
    env: e.NODE_ENV,
    isProduction,
    port,
    host: e.HOST,
    appUrl: (e.APP_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    database: parseDatabaseUrl(e.DATABASE_URL),
    databasePoolMax: e.DATABASE_POOL_MAX,
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
  };
}
