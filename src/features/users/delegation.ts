import { type Db, isPostgres, type Trx } from '../../db/index.ts';
import { badRequest, conflict } from '../../http/errors.ts';
import {
  activeDelegation,
  contactsByIds,
  type DelegationRow,
  delegationsTo,
  deleteDelegation,
  findDelegation,
  findUserById,
  upsertDelegation,
} from './queries.ts';

/**
 * Delegation while away (DESIGN.md §15): "away from .. to .., my delegate is X". While it holds,
 * requests assigned to the user are offered to X, and if X is away too, to X's delegate, and so on.
 * A chain that would come back to someone is refused when it is set, with a sentence naming who.
 */

/** The longest chain of delegates followed; a longer one is refused when set. */
export const MAX_DELEGATION_CHAIN = 5;

export interface ActingApprover {
  /** Who decides for `userId` now: themself, or the end of their chain of delegates. */
  userId: number;
  /** The people on the way, `userId` first (one entry: nobody is away). */
  chain: number[];
}

/** Who acts for `userId` at `now`, following delegates of delegates; `userId` themself when nobody is away. */
export async function actingApprover(q: Db | Trx, userId: number, now: Date): Promise<ActingApprover> {
  const at = now.toISOString();
  const chain = [userId];
  let current = userId;
  for (let hop = 0; hop < MAX_DELEGATION_CHAIN; hop++) {
    const away = await activeDelegation(q, current, at);
    if (!away) break;
    // A loop (only two changes racing could make one): nobody else can act, the user stays.
    if (chain.includes(away.delegate_id)) return { userId, chain: [userId] };
    chain.push(away.delegate_id);
    current = away.delegate_id;
  }
  return { userId: current, chain };
}

export interface DelegationInput {
  delegate_id: number;
  away_from: Date;
  away_until: Date;
}

const day = (d: Date) => d.toISOString().slice(0, 16).replace('T', ' ');

/**
 * Sets (or replaces) a user's delegation. Refused with a sentence: themself as delegate, a period that
 * ends before it starts or is over, a delegate who is away then too with a chain leading back to the
 * user, or a chain longer than MAX_DELEGATION_CHAIN. On PostgreSQL the check and the write hold a
 * table lock, so two people naming each other at once cannot both succeed.
 */
export async function setDelegation(db: Db, userId: number, input: DelegationInput, now: Date): Promise<DelegationRow> {
  if (input.delegate_id === userId)
    throw badRequest('delegate: you cannot be your own delegate', { delegate: 'cannot be yourself' });
  if (input.away_until <= input.away_from)
    throw badRequest('away_until: must be after away_from', { away_until: 'must be after the start' });
  if (input.away_until <= now) throw badRequest('away_until: must be in the future', { away_until: 'must be in the future' });
  if (!(await findUserById(db, input.delegate_id)))
    throw badRequest('delegate: no such account', { delegate: 'no such account' });
  return db.transaction(async (trx) => {
    if (isPostgres(db)) await trx.raw('LOCK TABLE user_delegations IN SHARE ROW EXCLUSIVE MODE');
    await refuseLoops(trx, userId, input);
    await upsertDelegation(trx, {
      user_id: userId,
      delegate_id: input.delegate_id,
      away_from: input.away_from.toISOString(),
      away_until: input.away_until.toISOString(),
      updated_at: now.toISOString(),
    });
    return (await findDelegation(trx, userId)) as DelegationRow;
  });
}

/** Walks the delegate's chain over the part of the period each link covers; 409 when it comes back. */
async function refuseLoops(trx: Trx, userId: number, input: DelegationInput): Promise<void> {
  let from = input.away_from.getTime();
  let until = input.away_until.getTime();
  const chain = [userId, input.delegate_id];
  let current = input.delegate_id;
  for (;;) {
    const next = await findDelegation(trx, current);
    if (!next) return;
    from = Math.max(from, new Date(next.away_from).getTime());
    until = Math.min(until, new Date(next.away_until).getTime());
    if (from >= until) return;
    const names = new Map((await contactsByIds(trx, [current, next.delegate_id])).map((c) => [c.id, c.username]));
    if (next.delegate_id === userId) {
      throw conflict(
        `${names.get(current)} is away from ${day(new Date(from))} to ${day(new Date(until))} UTC with you as their delegate: ` +
          'requests would go round in a circle. Choose someone else, or other dates.',
      );
    }
    if (chain.includes(next.delegate_id)) return;
    chain.push(next.delegate_id);
    if (chain.length > MAX_DELEGATION_CHAIN + 1) {
      throw conflict(
        `${names.get(current)} is away then too, and so are their delegates: the chain is longer than ${MAX_DELEGATION_CHAIN}. Choose someone who is in.`,
      );
    }
    current = next.delegate_id;
  }
}

export const clearDelegation = async (db: Db, userId: number): Promise<boolean> => (await deleteDelegation(db, userId)) > 0;

/** A user's delegation (any period) and the people who named them delegate for a period not yet over. */
export async function delegationOverview(db: Db, userId: number, now: Date) {
  const [mine, forOthers] = await Promise.all([findDelegation(db, userId), delegationsTo(db, userId, now.toISOString())]);
  return { mine, forOthers };
}
