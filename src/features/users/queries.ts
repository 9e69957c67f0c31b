import { type Db, escapeLike, nowIso, prepared, type Trx } from '../../db/index.ts';

export type Role = 'user' | 'admin';

export interface UserRow {
  id: number;
  username: string;
  email: string;
  phone: string | null;
  password_hash: string;
  role: Role;
  created_at: Date | string;
  updated_at: Date | string;
}

const PUBLIC_COLUMNS = ['id', 'username', 'email', 'phone', 'role', 'created_at', 'updated_at'] as const;
export type PublicUserRow = Omit<UserRow, 'password_hash'>;

export const findUserById = (db: Db | Trx, id: number): Promise<PublicUserRow | undefined> =>
  db('users').select(PUBLIC_COLUMNS).where({ id }).first();

/** By username or email, case-insensitively; includes the hash, for sign-in only. */
export const findUserForSignIn = (db: Db, login: string): Promise<UserRow | undefined> => {
  const key = login.trim().toLowerCase();
  return db('users').where({ username_key: key }).orWhere({ email_key: key }).first();
};

export const findUsersByKeys = (db: Db | Trx, username: string, email: string) =>
  db('users')
    .select('username_key', 'email_key')
    .where({ username_key: username.toLowerCase() })
    .orWhere({ email_key: email.toLowerCase() });

export const countUsers = async (db: Db | Trx): Promise<number> => {
  const row = await db('users').count({ n: '*' }).first();
  return Number(row?.n ?? 0);
};

export const countAdmins = async (db: Db | Trx): Promise<number> => {
  const row = await db('users').where({ role: 'admin' }).count({ n: '*' }).first();
  return Number(row?.n ?? 0);
};

export interface NewUser {
  username: string;
  email: string;
  phone: string | null;
  passwordHash: string;
  role: Role;
}

export async function insertUser(db: Db | Trx, user: NewUser): Promise<PublicUserRow> {
  const now = nowIso();
  const [row] = await db('users')
    .insert({
      username: user.username,
      username_key: user.username.toLowerCase(),
      email: user.email,
      email_key: user.email.toLowerCase(),
      phone: user.phone,
      password_hash: user.passwordHash,
      role: user.role,
      created_at: now,
      updated_at: now,
    })
    .returning(PUBLIC_COLUMNS);
  return row as PublicUserRow;
}

export const listUsers = (db: Db): Promise<PublicUserRow[]> => db('users').select(PUBLIC_COLUMNS).orderBy('username_key');

/** The first `limit` accounts by username, for pickers: on every dashboard view, so only id and name. */
export const listUsernames = (db: Db, limit: number): Promise<{ id: number; username: string }[]> =>
  prepared(
    db('users').select('id', 'username').orderBy('username_key').limit(limit, { skipBinding: true }),
    `usernames_${limit}`,
  );

/** Up to `limit` accounts whose username starts with `prefix` (any case), by username. */
export const usernamesStartingWith = (db: Db, prefix: string, limit: number): Promise<{ id: number; username: string }[]> =>
  db('users')
    .select('id', 'username')
    .whereRaw("username_key like ? escape '\\'", [`${escapeLike(prefix.toLowerCase())}%`])
    .orderBy('username_key')
    .limit(limit);

/** A person to send something to: who they are and where they can be reached. */
export interface Contact {
  id: number;
  username: string;
  email: string;
  phone: string | null;
}
const CONTACT_COLUMNS = ['id', 'username', 'email', 'phone'];

/** The accounts among `ids` that exist (one statement, prepared on PostgreSQL). */
export const contactsByIds = (q: Db | Trx, ids: number[]): Promise<Contact[]> =>
  prepared(q('users').select(CONTACT_COLUMNS).whereIn('id', ids), 'recipients');

/** The accounts behind `emails`, matched case-insensitively. */
export const contactsByEmails = (q: Db | Trx, emails: string[]): Promise<Contact[]> =>
  q('users')
    .select(CONTACT_COLUMNS)
    .whereIn(
      'email_key',
      emails.map((e) => e.toLowerCase()),
    );

/** Every admin, oldest account first. */
export const adminContacts = (q: Db | Trx): Promise<Contact[]> =>
  q('users').select(CONTACT_COLUMNS).where({ role: 'admin' }).orderBy('id');

export const updateRole = (db: Db | Trx, id: number, role: Role) =>
  db('users').where({ id }).update({ role, updated_at: nowIso() });

export const findUserByUsername = (db: Db | Trx, username: string): Promise<PublicUserRow | undefined> =>
  db('users').select(PUBLIC_COLUMNS).where({ username_key: username.trim().toLowerCase() }).first();

/** By email, case-insensitively (the email_key column): the account an identity provider's verified email names. */
export const findUserByEmail = (db: Db | Trx, email: string): Promise<PublicUserRow | undefined> =>
  db('users').select(PUBLIC_COLUMNS).where({ email_key: email.trim().toLowerCase() }).first();

/** Usernames (lower-cased keys) equal to `base` or starting with `base-`: for picking a free one. */
export const usernameKeysLike = async (db: Db | Trx, base: string): Promise<string[]> => {
  const key = base.toLowerCase();
  const rows: { username_key: string }[] = await db('users')
    .select('username_key')
    .where({ username_key: key })
    .orWhereRaw("username_key like ? escape '\\'", [`${escapeLike(key)}-%`]);
  return rows.map((r) => r.username_key);
};
