import { createHash, randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/**
 * A random opaque token (256 bits, base64url): API tokens, review links, session ids. The bytes come
 * from the CSPRNG 4 KB at a time (as Node's randomUUID does), each handed out once and then zeroed:
 * koa-session makes an id for every request without a cookie (API calls included), and a call into
 * the CSPRNG per token would be a noticeable share of such a request.
 */
export function randomToken(bytes = 32): string {
  if (bytes > POOL_SIZE) return randomBytes(bytes).toString('base64url');
  if (poolOffset + bytes > pool.length) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  const chunk = pool.subarray(poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  const token = chunk.toString('base64url');
  chunk.fill(0);
  return token;
}

/** Tokens are stored only as this hash; they are high-entropy, so a fast hash is the right one. */
export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  const options: ScryptOptions = { N: n, r, p, maxmem: 256 * n * r };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEYLEN, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** scrypt with a per-password salt; the parameters travel in the string so they can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Verified against when no such user exists, so both failures take the same time. */
export const DUMMY_PASSWORD_HASH = await hashPassword(randomToken());

/** Whether `token` is the one `hash` was made from (sha256), compared in constant time. */
export function matchesHash(hash: string | null | undefined, token: string): boolean {
  if (!hash) return false;
  const a = Buffer.from(sha256(token));
  const b = Buffer.from(hash);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A secret for a link: random, stored only as its sha256, valid until `expiresAt`. */
export function newLinkSecret(ttlMs: number, now: Date = new Date()) {
  const token = randomToken(32);
  return { token, hash: sha256(token), expiresAt: new Date(now.getTime() + ttlMs).toISOString() };
}
