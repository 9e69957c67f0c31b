import { randomUUID } from 'node:crypto';
import { type Db, isUniqueViolation } from './index.ts';

/** A response kept for replays: what a retry with the same key gets back. */
export interface KeptResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

interface KeyRow {
  id: number;
  request_hash: string;
  run_token: string;
  response_status: number | null;
  response_headers: string | null;
  response_body: Buffer | null;
  started_at: string;
  expires_at: string;
}

export interface Claim {
  caller: string;
  key: string;
  requestHash: string;
  now: Date;
  /** How long the key (and the response kept under it) lives. */
  ttlMs: number;
  /** A claim still running after this long is taken to be dead (its process stopped) and is taken over. */
  leaseMs: number;
}

/** What claiming a key found: the right to run the request, or what the key already holds. */
export type ClaimResult =
  | { kind: 'claimed'; id: number; runToken: string }
  | { kind: 'mismatch' }
  | { kind: 'running' }
  | { kind: 'done'; response: KeptResponse };

const iso = (d: Date) => d.toISOString();

/**
 * Claims (caller, key) for a request with fingerprint `requestHash`. The unique constraint decides a
 * race: of two requests with one key at once, one inserts and runs, the other finds the row. A row
 * past its expiry is a fresh key; a row still running past the lease belonged to a process that
 * died, and the same request takes it over (a conditional update, so only one retry does).
 */
export async function claimIdempotencyKey(db: Db, claim: Claim): Promise<ClaimResult> {
  const { caller, key, requestHash, now, ttlMs, leaseMs } = claim;
  const runToken = randomUUID();
  const fresh = {
    request_hash: requestHash,
    run_token: runToken,
    response_status: null,
    response_headers: null,
    response_body: null,
    started_at: iso(now),
    expires_at: iso(new Date(now.getTime() + ttlMs)),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const [row] = await db('idempotency_keys').insert({ caller, key, ...fresh }, ['id']);
      return { kind: 'claimed', id: Number((row as { id: number }).id), runToken };
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    const row = (await db('idempotency_keys').where({ caller, key }).first()) as KeyRow | undefined;
    if (!row) continue; // deleted (expired) between the insert and the read: insert again
    const expired = Date.parse(row.expires_at) <= now.getTime();
    if (!expired && row.request_hash !== requestHash) return { kind: 'mismatch' };
    if (!expired && row.response_status !== null) {
      return {
        kind: 'done',
        response: {
          status: row.response_status,
          headers: JSON.parse(row.response_headers ?? '{}'),
          body: row.response_body ?? Buffer.alloc(0),
        },
      };
    }
    const abandoned = row.response_status === null && Date.parse(row.started_at) + leaseMs <= now.getTime();
    if (!expired && !abandoned) return { kind: 'running' };
    const taken = await db('idempotency_keys').where({ id: row.id, run_token: row.run_token }).update(fresh);
    if (taken === 1) return { kind: 'claimed', id: row.id, runToken };
  }
  // Lost every race for this key (others kept claiming it): it is in use.
  return { kind: 'running' };
}

/** Keeps the response of a claimed key; a claim taken over meanwhile keeps its own instead. */
export async function keepIdempotentResponse(db: Db, id: number, runToken: string, response: KeptResponse): Promise<void> {
  await db('idempotency_keys')
    .where({ id, run_token: runToken })
    .whereNull('response_status')
    .update({
      response_status: response.status,
      response_headers: JSON.stringify(response.headers),
      response_body: response.body,
    });
}

/** Gives a claimed key up (nothing is kept): the next request with it runs afresh. */
export async function releaseIdempotencyKey(db: Db, id: number, runToken: string): Promise<void> {
  await db('idempotency_keys').where({ id, run_token: runToken }).whereNull('response_status').delete();
}

/** Deletes the keys past their expiry; returns how many. Safe to run at any time, and twice. */
export async function deleteExpiredIdempotencyKeys(db: Db, now: Date): Promise<number> {
  return db('idempotency_keys').where('expires_at', '<=', iso(now)).delete();
}
