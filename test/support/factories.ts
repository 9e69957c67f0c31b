import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/db/index.ts';
import { insertUser, type PublicUserRow, type Role } from '../../src/features/users/queries.ts';
import { hashPassword } from '../../src/lib/crypto.ts';
import { Client } from './client.ts';

export const PASSWORD = 'correct horse battery';
// Hashed once per test process: scrypt is deliberately slow.
const passwordHash = await hashPassword(PASSWORD);

let counter = 0;
const unique = () => `${process.pid.toString(36)}${(counter++).toString(36)}${randomBytes(2).toString('hex')}`;

export interface UserSpec {
  username?: string;
  email?: string;
  phone?: string | null;
  role?: Role;
}

/** A user row straight into the database (password: PASSWORD). */
export async function createUser(db: Db, spec: UserSpec = {}): Promise<PublicUserRow> {
  const username = spec.username ?? `user_${unique()}`;
  return insertUser(db, {
    username,
    email: spec.email ?? `${username}@example.test`,
    phone: spec.phone === undefined ? '+12025550100' : spec.phone,
    passwordHash,
    role: spec.role ?? 'user',
  });
}

/** A client signed in through the real sign-in form (cookie session). */
export async function signedInClient(baseUrl: string, username: string, password = PASSWORD): Promise<Client> {
  const client = new Client(baseUrl);
  const res = await client.submit('/login', '/login', { username, password });
  if (res.status !== 303) throw new Error(`sign-in failed for ${username}: ${res.status} ${res.text.slice(0, 200)}`);
  return client;
}

/** A client holding an API token from POST /api/login. */
export async function tokenClient(baseUrl: string, username: string, password = PASSWORD): Promise<Client> {
  const client = new Client(baseUrl);
  const res = await client.send('POST', '/api/login', { username, password });
  if (res.status !== 200) throw new Error(`API sign-in failed for ${username}: ${res.status} ${res.text}`);
  return client.withToken(res.json.access_token);
}

/** An account made through POST /api/register, as a client makes one: its id and API token. */
export async function registerThroughApi(
  baseUrl: string,
  username: string,
  phone?: string,
): Promise<{ id: number; token: string }> {
  const res = await new Client(baseUrl).send('POST', '/api/register', {
    username,
    email: `${username}@example.test`,
    password: PASSWORD,
    phone,
  });
  if (res.status !== 201) throw new Error(`register ${username}: ${res.status} ${res.text}`);
  return { id: res.json.user.id as number, token: res.json.access_token as string };
}

/**
 * The inventory tests' people: an admin (boss), a technician who asks (tech) and the approver who
 * fulfils (stockkeeper), each with a bearer-token client.
 */
export async function inventoryCast(db: Db, baseUrl: string) {
  const boss = await createUser(db, { username: 'boss', role: 'admin' });
  const tech = await createUser(db, { username: 'tech' });
  const stockkeeper = await createUser(db, { username: 'stockkeeper' });
  const [bossApi, techApi, stockApi] = await Promise.all([
    tokenClient(baseUrl, 'boss'),
    tokenClient(baseUrl, 'tech'),
    tokenClient(baseUrl, 'stockkeeper'),
  ]);
  return { boss, tech, stockkeeper, bossApi, techApi, stockApi };
}
