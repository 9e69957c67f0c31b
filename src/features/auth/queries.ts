import { type Db, nowIso } from '../../db/index.ts';
import type { PublicUserRow } from '../users/queries.ts';

export async function insertApiToken(db: Db, userId: number, tokenHash: string, expiresAt: string): Promise<void> {
  await db('api_tokens').insert({ user_id: userId, token_hash: tokenHash, expires_at: expiresAt, created_at: nowIso() });
}

/** The token's user, when the token exists, is not revoked and has not expired. One query. */
export const findUserByActiveToken = (db: Db, tokenHash: string): Promise<(PublicUserRow & { token_id: number }) | undefined> =>
  db('api_tokens as t')
    .join('users as u', 'u.id', 't.user_id')
    .select('u.id', 'u.username', 'u.email', 'u.phone', 'u.role', 'u.created_at', 'u.updated_at', 't.id as token_id')
    .where('t.token_hash', tokenHash)
    .whereNull('t.revoked_at')
    .where('t.expires_at', '>', nowIso())
    .first();

export const revokeApiToken = (db: Db, tokenId: number) =>
  db('api_tokens').where({ id: tokenId }).whereNull('revoked_at').update({ revoked_at: nowIso() });

export const readSession = (db: Db, idHash: string): Promise<{ data: string; expires_at: Date | string } | undefined> =>
  db('sessions').select('data', 'expires_at').where({ id_hash: idHash }).first();

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

export const deleteExpiredSessions = (db: Db) => db('sessions').where('expires_at', '<', nowIso()).delete();

export const deleteExpiredTokens = (db: Db) => db('api_tokens').where('expires_at', '<', nowIso()).delete();
