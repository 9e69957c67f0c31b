import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { ConfigError, loadConfig } from '../src/config.ts';

/** loadConfig: defaults, DATABASE_URL forms, and one clear error naming each bad variable. */

const errorFor = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    return err;
  }
  return undefined;
};

test('defaults: port 3000, a SQLite file under data/, development, generated key', (t) => {
  const config = loadConfig({});
  t.is(config.port, 3000);
  t.is(config.env, 'development');
  t.false(config.isProduction);
  t.deepEqual(config.database, { client: 'sqlite', filename: path.resolve(process.cwd(), 'data/cable-ticketing.sqlite') });
  t.true(path.isAbsolute(config.database.client === 'sqlite' ? config.database.filename : ''));
  t.is(config.authTokenTtlSeconds, 86400);
  t.is(config.bodyLimitBytes, 100 * 1024);
  t.is(config.appUrl, 'http://localhost:3000');
  t.false(config.runSeedOnStart);
});

test('without SECRET_KEY outside production a random key is generated and flagged', (t) => {
  const a = loadConfig({ NODE_ENV: 'development' });
  const b = loadConfig({ NODE_ENV: 'test' });
  t.true(a.secretKeyGenerated);
  t.true(b.secretKeyGenerated);
  t.true(a.secretKey.length >= 32);
  t.not(a.secretKey, b.secretKey);
  const set = loadConfig({ SECRET_KEY: 'a-configured-secret-key-123' });
  t.false(set.secretKeyGenerated);
  t.is(set.secretKey, 'a-configured-secret-key-123');
});

test('SECRET_KEY is required in production', (t) => {
  const err = errorFor({ NODE_ENV: 'production' });
  t.true(err instanceof ConfigError);
  t.regex((err as Error).message, /SECRET_KEY/);
  t.regex((err as Error).message, /production/);
  const ok = loadConfig({ NODE_ENV: 'production', SECRET_KEY: 'x'.repeat(40) });
  t.true(ok.isProduction);
  t.false(ok.secretKeyGenerated);
});

test('a too-short SECRET_KEY is refused', (t) => {
  const err = errorFor({ SECRET_KEY: 'short' });
  t.true(err instanceof ConfigError);
  t.regex((err as Error).message, /SECRET_KEY/);
});

test('a relative sqlite path is resolved from the working directory', (t) => {
  const config = loadConfig({ DATABASE_URL: 'sqlite:var/db/app.sqlite' });
  t.deepEqual(config.database, { client: 'sqlite', filename: path.resolve(process.cwd(), 'var/db/app.sqlite') });
  const dotted = loadConfig({ DATABASE_URL: 'sqlite:./here.sqlite' });
  t.deepEqual(dotted.database, { client: 'sqlite', filename: path.resolve(process.cwd(), 'here.sqlite') });
});

test('an absolute sqlite path is kept, with or without sqlite://', (t) => {
  const file = path.join(os.tmpdir(), 'ct-config-test', 'app.sqlite');
  t.deepEqual(loadConfig({ DATABASE_URL: `sqlite:${file}` }).database, { client: 'sqlite', filename: file });
  t.deepEqual(loadConfig({ DATABASE_URL: `sqlite://${file}` }).database, { client: 'sqlite', filename: file });
});

test('a postgres URL selects PostgreSQL as given', (t) => {
  for (const url of ['postgres://app:pw@db.internal:5432/cable', 'postgresql://localhost/cable?sslmode=require']) {
    t.deepEqual(loadConfig({ DATABASE_URL: url }).database, { client: 'pg', url });
  }
});

test('a bad DATABASE_URL is a ConfigError naming DATABASE_URL', (t) => {
  for (const url of ['mysql://localhost/db', 'data/app.sqlite', 'sqlite:', 'http://example.com']) {
    const err = errorFor({ DATABASE_URL: url });
    t.true(err instanceof ConfigError, url);
    t.regex((err as Error).message, /DATABASE_URL/, url);
    t.false((err as Error).message.includes('\n'), 'one line');
  }
});

test('a bad PORT is a ConfigError naming PORT', (t) => {
  for (const port of ['abc', '70000', '-1', '3.5']) {
    const err = errorFor({ PORT: port });
    t.true(err instanceof ConfigError, port);
    t.regex((err as Error).message, /^Invalid PORT: /, port);
  }
  t.is(loadConfig({ PORT: '8080' }).port, 8080);
  t.is(loadConfig({ PORT: '8080' }).appUrl, 'http://localhost:8080');
});

test('other bad values name their variable', (t) => {
  const cases: Record<string, string> = {
    NODE_ENV: 'staging',
    LOG_LEVEL: 'loud',
    BODY_LIMIT_KB: '0',
    AUTH_TOKEN_TTL_SECONDS: 'forever',
    RATE_LIMIT_AUTH_PER_MINUTE: '-5',
    TRUST_PROXY: 'maybe',
    APP_URL: 'not a url',
  };
  for (const [name, value] of Object.entries(cases)) {
    const err = errorFor({ [name]: value });
    t.true(err instanceof ConfigError, name);
    t.true((err as Error).message.startsWith(`Invalid ${name}:`), `${name}: ${(err as Error).message}`);
  }
});

test('blank variables count as unset', (t) => {
  const config = loadConfig({ PORT: '', DATABASE_URL: '', SECRET_KEY: '' });
  t.is(config.port, 3000);
  t.is(config.database.client, 'sqlite');
  t.true(config.secretKeyGenerated);
});

test('numbers, booleans and APP_URL are parsed', (t) => {
  const config = loadConfig({
    AUTH_TOKEN_TTL_SECONDS: '60',
    BODY_LIMIT_KB: '2',
    TRUST_PROXY: 'true',
    RUN_SEED_ON_START: 'yes',
    APP_URL: 'https://tickets.example.com/',
  });
  t.is(config.authTokenTtlSeconds, 60);
  t.is(config.bodyLimitBytes, 2048);
  t.true(config.trustProxy);
  t.true(config.runSeedOnStart);
  t.is(config.appUrl, 'https://tickets.example.com');
});

test('INVENTORY_ENFORCE_STOCK: off by default, true/1/yes turn it on, anything else is refused by name', (t) => {
  t.false(loadConfig({}).inventoryEnforceStock);
  for (const on of ['true', '1', 'yes']) t.true(loadConfig({ INVENTORY_ENFORCE_STOCK: on }).inventoryEnforceStock, on);
  for (const off of ['false', '0', 'no', '']) t.false(loadConfig({ INVENTORY_ENFORCE_STOCK: off }).inventoryEnforceStock, off);
  const err = errorFor({ INVENTORY_ENFORCE_STOCK: 'maybe' });
  t.true(err instanceof ConfigError);
  t.regex((err as Error).message, /INVENTORY_ENFORCE_STOCK/);
});

test('REEL_OFFCUT_MIN: 10 ft by default, a length in ft or m, anything else refused by name', (t) => {
  t.is(loadConfig({}).reelOffcutMinMm, 3048);
  t.is(loadConfig({ REEL_OFFCUT_MIN: '3 m' }).reelOffcutMinMm, 3000);
  t.is(loadConfig({ REEL_OFFCUT_MIN: "25'" }).reelOffcutMinMm, 7620);
  for (const bad of ['10 parsecs', '-5 ft', '0 m', '10']) {
    const err = errorFor({ REEL_OFFCUT_MIN: bad });
    t.true(err instanceof ConfigError, bad);
    t.regex((err as Error).message, /REEL_OFFCUT_MIN/, bad);
  }
});

test('webhooks: private targets refused unless allowed, 10 s, 10 attempts, disabled after 10; bad values name the variable', (t) => {
  t.deepEqual(loadConfig({}).webhooks, { allowPrivate: false, timeoutMs: 10_000, maxAttempts: 10, disableAfter: 10 });
  t.like(loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'yes', WEBHOOK_TIMEOUT_MS: '2500' }).webhooks, {
    allowPrivate: true,
    timeoutMs: 2500,
  });
  for (const [name, value] of [
    ['WEBHOOK_ALLOW_PRIVATE', 'maybe'],
    ['WEBHOOK_TIMEOUT_MS', '0'],
    ['WEBHOOK_TIMEOUT_MS', '600000'],
    ['WEBHOOK_MAX_ATTEMPTS', 'ten'],
    ['WEBHOOK_DISABLE_AFTER', '-1'],
  ] as const) {
    const err = errorFor({ [name]: value });
    t.true(err instanceof ConfigError, `${name}=${value}`);
    t.regex(String((err as Error).message), new RegExp(`^Invalid ${name}: `), `${name}=${value}`);
  }
});
