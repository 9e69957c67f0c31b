import { Strategy as LocalStrategy } from 'passport-local';
import type { Db } from '../../db/index.ts';
import { DUMMY_PASSWORD_HASH, randomToken, sha256, verifyPassword } from '../../lib/crypto.ts';
import { findUserForSignIn, type PublicUserRow } from '../users/service.ts';
import { deleteExpiredSessions, deleteExpiredTokens, insertApiToken, revokeApiToken } from './queries.ts';

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
