import { type Db, nowIso, prepared, type Trx } from '../../db/index.ts';
import type { PublicUserRow } from '../users/service.ts';

export async function insertApiToken(db: Db, userId: number, tokenHash: string, expiresAt: string): Promise<void> {
  await db('api_tokens').insert({ user_id: userId, token_hash: tokenHash, expires_at: expiresAt, created_at: nowIso() });
}

export type TokenKind = 'sign_in' | 'personal';
export type TokenScope = 'read' | 'write';

/** What a request's bearer token says about itself, read with its user. */
export interface ActiveToken {
  token_id: number;
  token_kind: TokenKind;
  token_scope: TokenScope;
  token_last_used_at: Date | string | null;
}

/** The token's user, when the token exists, is not revoked and has not expired. One query. */
export const findUserByActiveToken = (db: Db, tokenHash: string): Promise<(PublicUserRow & ActiveToken) | undefined> =>
  prepared(
    db('api_tokens as t')
      .join('users as u', 'u.id', 't.user_id')
      .select(
        'u.id',
        'u.username',
        'u.email',
        'u.phone',
        'u.role',
        'u.created_at',
        'u.updated_at',
        't.id as token_id',
        't.kind as token_kind',
        't.scope as token_scope',
        't.last_used_at as token_last_used_at',
      )
      .where('t.token_hash', tokenHash)
      .whereNull('t.revoked_at')
      .where('t.expires_at', '>', nowIso())
      .first(),
    'token_user',
  );

export const revokeApiToken = (db: Db, tokenId: number) =>
  db('api_tokens').where({ id: tokenId }).whereNull('revoked_at').update({ revoked_at: nowIso() });

// ---- personal tokens ------------------------------------------------------------------------------

export interface PersonalTokenRow {
  id: number;
  name: string;
  scope: TokenScope;
  created_at: Date | string;
  expires_at: Date | string;
  last_used_at: Date | string | null;
}

const PERSONAL_COLUMNS = ['id', 'name', 'scope', 'created_at', 'expires_at', 'last_used_at'];

export async function insertPersonalToken(
  db: Db,
  token: { userId: number; tokenHash: string; name: string; scope: TokenScope; expiresAt: string; now: string },
): Promise<PersonalTokenRow> {
  const [row] = await db('api_tokens')
    .insert({
      user_id: token.userId,
      token_hash: token.tokenHash,
      kind: 'personal',
      name: token.name,
      scope: token.scope,
      expires_at: token.expiresAt,
      created_at: token.now,
    })
    .returning(PERSONAL_COLUMNS);
  return row as PersonalTokenRow;
}

/** A user's personal tokens that still work (not revoked, not expired), newest first. */
export const listPersonalTokens = (db: Db, userId: number, now: string): Promise<PersonalTokenRow[]> =>
  db('api_tokens')
    .select(PERSONAL_COLUMNS)
    .where({ user_id: userId, kind: 'personal' })
    .whereNull('revoked_at')
    .where('expires_at', '>', now)
    .orderBy('id', 'desc');

export async function countPersonalTokens(db: Db, userId: number, now: string): Promise<number> {
  const row = await db('api_tokens')
    .where({ user_id: userId, kind: 'personal' })
    .whereNull('revoked_at')
    .where('expires_at', '>', now)
    .count({ n: '*' })
    .first();
  return Number(row?.n ?? 0);
}

/** Revokes one of the user's working personal tokens; false when there is none with that id. */
export async function revokePersonalToken(db: Db, userId: number, tokenId: number, now: string): Promise<boolean> {
  const changed = await db('api_tokens')
    .where({ id: tokenId, user_id: userId, kind: 'personal' })
    .whereNull('revoked_at')
    .where('expires_at', '>', now)
    .update({ revoked_at: now });
  return changed > 0;
}

/**
 * Notes a use: a conditional update that writes only when the stored time is older than `before`, so
 * a busy token costs one write a minute, and two requests at once write once.
 */
export const touchToken = (db: Db, tokenId: number, now: string, before: string) =>
  db('api_tokens')
    .where({ id: tokenId })
    .where((q) => q.whereNull('last_used_at').orWhere('last_used_at', '<', before))
    .update({ last_used_at: now });

export interface SessionRow {
  data: string;
  expires_at: Date | string;
  /** The signed-in account, read in the same statement (null when the session has none). */
  user: PublicUserRow | null;
}

/**
 * The session row joined to its account: a signed-in page costs one statement for both, not two
 * (the user row is still read on every request, so a role change applies at once).
 */
export async function readSession(db: Db, idHash: string): Promise<SessionRow | undefined> {
  const row = await prepared(
    db('sessions as s')
      .leftJoin('users as u', 'u.id', 's.user_id')
      .select('s.data', 's.expires_at', 'u.id', 'u.username', 'u.email', 'u.phone', 'u.role', 'u.created_at', 'u.updated_at')
      .where('s.id_hash', idHash)
      .first(),
    'session_user',
  );
  if (!row) return undefined;
  const { data, expires_at, ...user } = row as { data: string; expires_at: Date | string } & PublicUserRow;
  return { data, expires_at, user: user.id === null || user.id === undefined ? null : user };
}

export async function writeSession(
  db: Db,
  idHash: string,
  data: string,
  userId: number | null,
  expiresAt: string,
): Promise<void> {
  const now = nowIso();
  await db('sessions')
    .insert({ id_hash: idHash, data, user_id: userId, expires_at: expiresAt, created_at: now, updated_at: now })
    .onConflict('id_hash')
    .merge(['data', 'user_id', 'expires_at', 'updated_at']);
}

export const deleteSession = (db: Db, idHash: string) => db('sessions').where({ id_hash: idHash }).delete();

export const deleteExpiredSessions = (db: Db, now: Date) => db('sessions').where('expires_at', '<', now.toISOString()).delete();

export const deleteExpiredTokens = (db: Db, now: Date) => db('api_tokens').where('expires_at', '<', now.toISOString()).delete();

export interface IdentityRow {
  id: number;
  user_id: number;
  issuer: string;
  subject: string;
}

/** The account an identity provider's (issuer, subject) was linked to at an earlier sign-in. */
export const findIdentity = (db: Db | Trx, issuer: string, subject: string): Promise<IdentityRow | undefined> =>
  db('user_identities').select('id', 'user_id', 'issuer', 'subject').where({ issuer, subject }).first();

/** The identity already linked to this account at this issuer (at most one: a unique constraint). */
export const findIdentityOfUser = (db: Db | Trx, userId: number, issuer: string): Promise<IdentityRow | undefined> =>
  db('user_identities').select('id', 'user_id', 'issuer', 'subject').where({ user_id: userId, issuer }).first();

export async function insertIdentity(db: Db | Trx, userId: number, issuer: string, subject: string, now: string): Promise<void> {
  await db('user_identities').insert({ user_id: userId, issuer, subject, created_at: now, last_sign_in_at: now });
}

export const touchIdentity = (db: Db | Trx, id: number, now: string) =>
  db('user_identities').where({ id }).update({ last_sign_in_at: now });
