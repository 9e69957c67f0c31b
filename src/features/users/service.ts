import type { Logger } from 'pino';
import { type Db, isPostgres, isUniqueViolation, type Trx } from '../../db/index.ts';
import type { Principal } from '../../http/context.ts';
import { conflict, HttpError, notFound } from '../../http/errors.ts';
import { hashPassword } from '../../lib/crypto.ts';
import {
  type Contact,
  contactsByIds,
  contactsWithAwayByIds,
  countAdmins,
  countUsers,
  findUserByEmail,
  findUserById,
  findUsersByKeys,
  insertUser,
  listUsernames,
  type PublicUserRow,
  type Role,
  updateRole,
  usernameKeysLike,
  usernamesStartingWith,
} from './queries.ts';
import type { RegisterInput } from './schema.ts';

export {
  type ActingApprover,
  actingApprover,
  clearDelegation,
  type DelegationInput,
  delegationOverview,
  MAX_DELEGATION_CHAIN,
  setDelegation,
} from './delegation.ts';
/**
 * The users feature's face: other features ask for people and their addresses here, never in
 * users/queries.ts. Plain reads are handed on as they are.
 */
export {
  adminContacts,
  awayUserIds,
  type Contact,
  contactsByEmails,
  type DelegationRow,
  findUserById,
  findUserByUsername,
  findUserForSignIn,
  type PublicUserRow,
  type Role,
} from './queries.ts';

const duplicateError = (taken: { username: boolean; email: boolean }) => {
  const fields: Record<string, string> = {};
  if (taken.username) fields.username = 'is already taken';
  if (taken.email) fields.email = 'is already registered';
  const what =
    taken.username && taken.email ? 'That username and email are' : taken.username ? 'That username is' : 'That email is';
  return conflict(`${what} already registered.`, fields);
};

/**
 * Creates an account. The very first account becomes admin; after that `role` is honoured only
 * when an admin is the caller. The user count and insert share a transaction (with a table lock on
 * PostgreSQL) so two first registrations cannot both become admin.
 */
export async function registerUser(
  db: Db,
  input: RegisterInput,
  caller: Principal | undefined,
  logger: Logger,
): Promise<PublicUserRow> {
  const passwordHash = await hashPassword(input.password);
  try {
    return await db.transaction(async (trx) => {
      if (isPostgres(db)) await trx.raw('LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE');
      const existing = await findUsersByKeys(trx, input.username, input.email);
      if (existing.length) {
        throw duplicateError({
          username: existing.some((r) => r.username_key === input.username.toLowerCase()),
          email: existing.some((r) => r.email_key === input.email.toLowerCase()),
        });
      }
      const first = (await countUsers(trx)) === 0;
      const role: Role = first ? 'admin' : caller?.role === 'admin' && input.role ? input.role : 'user';
      const user = await insertUser(trx, {
        username: input.username,
        email: input.email,
        phone: input.phone ?? null,
        passwordHash,
        role,
      });
      if (first) logger.warn({ userId: user.id, username: user.username }, 'first account registered: made admin');
      return user;
    });
  } catch (err) {
    // Two registrations racing for one name on SQLite end here rather than in the check above.
    if (isUniqueViolation(err)) throw conflict('That username or email is already registered.');
    throw err;
  }
}

/** Sets a role; refuses to demote the last admin, so the app always has one. */
export async function changeRole(db: Db, userId: number, role: Role): Promise<PublicUserRow> {
  return db.transaction(async (trx) => {
    if (isPostgres(db)) await trx.raw('LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE');
    const user = await findUserById(trx, userId);
    if (!user) throw notFound('No user with that id.');
    if (user.role === 'admin' && role !== 'admin' && (await countAdmins(trx)) <= 1) {
      throw conflict('This is the only admin. Make someone else an admin first.');
    }
    await updateRole(trx, userId, role);
    return { ...user, role };
  });
}

/** The first `limit` accounts (id and name), for pickers such as a ticket's assignee. */
export const listAccounts = (db: Db, limit: number) => listUsernames(db, limit);

/** Accounts whose name starts with what was typed (at most `limit`), for a name field's suggestions. */
export const suggestAccounts = (db: Db, typed: string, limit: number) =>
  typed.trim() ? usernamesStartingWith(db, typed.trim(), limit) : Promise.resolve([]);

/** The accounts among `ids` that exist, by id, with their addresses (one statement). */
export async function peopleByIds(q: Db | Trx, ids: number[]): Promise<Map<number, Contact>> {
  return new Map((await contactsByIds(q, ids)).map((c) => [c.id, c]));
}

/** As peopleByIds, each also saying whether they are away at `now` (their delegate acts for them). */
export async function peopleAndAwayByIds(
  q: Db | Trx,
  ids: number[],
  now: Date,
): Promise<Map<number, Contact & { away: boolean }>> {
  const rows = await contactsWithAwayByIds(q, ids, now.toISOString());
  return new Map(rows.map(({ away, ...c }) => [c.id, { ...c, away: Boolean(away) }]));
}

/** One account with its addresses, or undefined when there is none with that id. */
export const personById = async (q: Db | Trx, id: number): Promise<Contact | undefined> => (await peopleByIds(q, [id])).get(id);

/** The password hash of an account made at single sign-on: no password verifies against it. */
export const NO_PASSWORD = '!single-sign-on';

/** The account an identity provider's verified email address names, if any. */
export const findAccountByEmail = (db: Db | Trx, email: string) => findUserByEmail(db, email);

export interface SignInAccountInput {
  /** The wished-for username (already in the allowed alphabet, 3 to 40 characters). */
  username: string;
  email: string;
  /** The identity provider puts the person in an admin group. */
  admin: boolean;
}

/**
 * Creates the account of someone signing in through their identity provider for the first time, in
 * the caller's transaction: the first free username of `base`, `base-2`, `base-3`…, no password, and
 * admin when the provider says so or when it is the very first account (as with registration). The
 * user count and insert are serialised as in registerUser.
 */
export async function createSignInAccount(trx: Trx, input: SignInAccountInput, logger: Logger): Promise<PublicUserRow> {
  if (isPostgres(trx)) await trx.raw('LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE');
  const taken = new Set(await usernameKeysLike(trx, input.username));
  let username = input.username;
  for (let n = 2; taken.has(username.toLowerCase()); n += 1) username = `${input.username}-${n}`;
  const first = (await countUsers(trx)) === 0;
  const user = await insertUser(trx, {
    username,
    email: input.email,
    phone: null,
    passwordHash: NO_PASSWORD,
    role: first || input.admin ? 'admin' : 'user',
  });
  if (first) logger.warn({ userId: user.id, username: user.username }, 'first account created at single sign-on: made admin');
  return user;
}

/**
 * Makes an account admin or not as its identity provider's groups say. A demotion that would leave the
 * app without an admin is not made (changeRole refuses it): the account stays admin and `kept` says so.
 */
export async function setAdminFromGroups(
  db: Db,
  userId: number,
  admin: boolean,
): Promise<{ user: PublicUserRow; kept: boolean }> {
  try {
    return { user: await changeRole(db, userId, admin ? 'admin' : 'user'), kept: false };
  } catch (err) {
    if (!(err instanceof HttpError) || err.status !== 409) throw err;
    const user = await findUserById(db, userId);
    if (!user) throw notFound('No user with that id.');
    return { user, kept: true };
  }
}

/** An account by id, or undefined. */
export const findAccount = (db: Db | Trx, id: number) => findUserById(db, id);
