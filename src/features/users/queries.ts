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

/** The accounts among `ids`, each with whether its away period holds `now` (one statement). */
export const contactsWithAwayByIds = (
  q: Db | Trx,
  ids: number[],
  now: string,
): Promise<(Contact & { away: number | boolean })[]> =>
  prepared(
    q('users as u')
      .leftJoin('user_delegations as d', (j) =>
        j
          .on('d.user_id', 'u.id')
          .andOn('d.away_from', '<=', q.raw('?', [now]))
          .andOn('d.away_until', '>', q.raw('?', [now])),
      )
      .select(...CONTACT_COLUMNS.map((c) => `u.${c}`), q.raw('(d.user_id is not null) as away'))
      .whereIn('u.id', ids),
    'recipients_away',
  );

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

// ---- delegation while away ---------------------------------------------------------------------

export interface DelegationRow {
  user_id: number;
  delegate_id: number;
  delegate_username: string;
  away_from: Date | string;
  away_until: Date | string;
  updated_at: Date | string;
}

const delegationQuery = (q: Db | Trx) =>
  q('user_delegations as d')
    .join('users as x', 'x.id', 'd.delegate_id')
    .select('d.user_id', 'd.delegate_id', 'x.username as delegate_username', 'd.away_from', 'd.away_until', 'd.updated_at');

/** A user's delegation, whenever its period is. */
export const findDelegation = (q: Db | Trx, userId: number): Promise<DelegationRow | undefined> =>
  delegationQuery(q).where('d.user_id', userId).first();

/** A user's delegation if `now` is inside its period. */
export const activeDelegation = (q: Db | Trx, userId: number, now: string): Promise<DelegationRow | undefined> =>
  delegationQuery(q).where('d.user_id', userId).andWhere('d.away_from', '<=', now).andWhere('d.away_until', '>', now).first();

/** Everyone whose away period holds `now`. */
export const awayUserIds = async (q: Db | Trx, now: string): Promise<number[]> =>
  (await q('user_delegations').select('user_id').where('away_from', '<=', now).andWhere('away_until', '>', now)).map(
    (r: { user_id: number }) => r.user_id,
  );

/** The people who named `userId` their delegate, with periods ending after `now`. */
export const delegationsTo = (q: Db | Trx, userId: number, now: string) =>
  q('user_delegations as d')
    .join('users as x', 'x.id', 'd.user_id')
    .select('d.user_id', 'x.username', 'd.away_from', 'd.away_until')
    .where('d.delegate_id', userId)
    .andWhere('d.away_until', '>', now)
    .orderBy('d.away_from') as Promise<{ user_id: number; username: string; away_from: string; away_until: string }[]>;

export async function upsertDelegation(
  q: Db | Trx,
  row: { user_id: number; delegate_id: number; away_from: string; away_until: string; updated_at: string },
): Promise<void> {
  await q('user_delegations').insert(row).onConflict('user_id').merge(['delegate_id', 'away_from', 'away_until', 'updated_at']);
}

export const deleteDelegation = (q: Db | Trx, userId: number) => q('user_delegations').where({ user_id: userId }).delete();
