import { Strategy as LocalStrategy } from 'passport-local';
import type { Db } from '../../db/index.ts';
import type { Principal } from '../../http/context.ts';
import { conflict, notFound } from '../../http/errors.ts';
import { DUMMY_PASSWORD_HASH, randomToken, sha256, verifyPassword } from '../../lib/crypto.ts';
import { findUserForSignIn, type PublicUserRow } from '../users/service.ts';
import {
  type ActiveToken,
  countPersonalTokens,
  deleteExpiredSessions,
  deleteExpiredTokens,
  insertApiToken,
  insertPersonalToken,
  listPersonalTokens,
  type PersonalTokenRow,
  revokeApiToken,
  revokePersonalToken,
  touchToken,
} from './queries.ts';
import type { NewTokenInput } from './schema.ts';

export type { PersonalTokenRow } from './queries.ts';

type Done = (err: unknown, user?: PublicUserRow | false) => void;

/** The passport local strategy: a username (or email) and a password. */
export function localStrategy(db: Db): LocalStrategy {
  return new LocalStrategy({ session: false }, (login: string, password: string, done: Done) => {
    findUserForSignIn(db, login)
      .then(async (row) => {
        // Verify against a dummy hash when the user is unknown or has no password (made at single
        // sign-on), so every failure costs the same.
        const usable = row?.password_hash.startsWith('scrypt$') ? row.password_hash : undefined;
        const ok = await verifyPassword(password, usable ?? DUMMY_PASSWORD_HASH);
        if (!row || !usable || !ok) return done(null, false);
        const { password_hash: _hash, ...user } = row;
        done(null, user);
      })
      .catch(done);
  });
}

/**
 * Runs a passport strategy against a request body without passport's Express glue: passport calls
 * back `success`, `fail` or `error` on the strategy instance, so we give it those three.
 */
export function authenticate(strategy: LocalStrategy, body: Record<string, unknown>): Promise<PublicUserRow | undefined> {
  return new Promise((resolve, reject) => {
    const run = Object.create(strategy) as LocalStrategy & {
      success(user: PublicUserRow): void;
      fail(): void;
      error(err: unknown): void;
      redirect(): void;
      pass(): void;
    };
    run.success = (user) => resolve(user);
    run.fail = () => resolve(undefined);
    run.error = (err) => reject(err);
    run.redirect = () => resolve(undefined);
    run.pass = () => resolve(undefined);
    run.authenticate({ body, query: {} } as never, {});
  });
}

/**
 * What the per-account sign-in limit counts: the account itself, whichever of its names (username or
 * email, in any case) is typed; a name with no account counts as itself. (Keyed by the typed name, the
 * username and the email were two allowances for one account: test/auth-hardening.test.ts.)
 */
export async function signInLimitKey(db: Db, login: string): Promise<string> {
  const row = await findUserForSignIn(db, login);
  return row ? `user:${row.id}` : `name:${login.trim().toLowerCase()}`;
}

export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  expires_at: string;
}

/** A new opaque API token; only its hash is stored. */
export async function issueApiToken(db: Db, userId: number, ttlSeconds: number): Promise<IssuedToken> {
  const token = randomToken(32);
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
  await insertApiToken(db, userId, sha256(token), expiresAt);
  return { access_token: token, token_type: 'Bearer', expires_in: ttlSeconds, expires_at: expiresAt };
}

export async function revokeToken(db: Db, tokenId: number): Promise<void> {
  await revokeApiToken(db, tokenId);
}

/** Timed work: sessions and API tokens past their expiry are deleted (they no longer sign anyone in). */
export async function deleteExpiredSignIns(db: Db, now: Date): Promise<void> {
  await deleteExpiredSessions(db, now);
  await deleteExpiredTokens(db, now);
}

// ---- personal tokens ------------------------------------------------------------------------------

/** Personal tokens start with this, so a secret scanner (or a person) can tell one in a log or a repo. */
export const PERSONAL_TOKEN_PREFIX = 'ctp_';
/** Working personal tokens one account may hold: enough for every integration, not an unbounded table. */
export const MAX_PERSONAL_TOKENS = 50;
/** last_used_at is written at most this often per token: a busy integration costs one write a minute. */
export const TOKEN_USE_GRANULARITY_MS = 60_000;

/**
 * A personal token for `user`: named, `read` or `write`, expiring after `expires_in_days` (at most a
 * year). The token exists in plain text only in the answer; the table keeps its sha256. The cap is
 * checked before the insert, so two creations at the very same moment could pass it by one: it bounds
 * growth, it guards nothing.
 */
export async function createPersonalToken(db: Db, user: Principal, input: NewTokenInput, now: Date) {
  const at = now.toISOString();
  if ((await countPersonalTokens(db, user.id, at)) >= MAX_PERSONAL_TOKENS) {
    throw conflict(`You already have ${MAX_PERSONAL_TOKENS} personal tokens. Revoke one you no longer use first.`);
  }
  const token = PERSONAL_TOKEN_PREFIX + randomToken(32);
  const expiresAt = new Date(now.getTime() + input.expires_in_days * 86_400_000).toISOString();
  const row = await insertPersonalToken(db, {
    userId: user.id,
    tokenHash: sha256(token),
    name: input.name,
    scope: input.scope,
    expiresAt,
    now: at,
  });
  return { token, row };
}

export const personalTokens = (db: Db, user: Principal, now: Date): Promise<PersonalTokenRow[]> =>
  listPersonalTokens(db, user.id, now.toISOString());

/** Revokes one of `user`'s personal tokens: it stops working with the next request. 404 when there is no such working token. */
export async function revokePersonal(db: Db, user: Principal, tokenId: number, now: Date): Promise<void> {
  if (!(await revokePersonalToken(db, user.id, tokenId, now.toISOString()))) {
    throw notFound('You have no working personal token with that id.');
  }
}

/** Records that a personal token was used now, unless that was already noted within the last minute. */
export async function notePersonalTokenUse(db: Db, token: ActiveToken, now: Date): Promise<void> {
  if (token.token_kind !== 'personal') return;
  const last = token.token_last_used_at ? new Date(token.token_last_used_at).getTime() : 0;
  if (now.getTime() - last < TOKEN_USE_GRANULARITY_MS) return;
  await touchToken(db, token.token_id, now.toISOString(), new Date(now.getTime() - TOKEN_USE_GRANULARITY_MS).toISOString());
}
