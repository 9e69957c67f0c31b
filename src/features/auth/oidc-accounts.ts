import type { Logger } from 'pino';
import { z } from 'zod';
import type { OidcSettings } from '../../config.ts';
import { type Db, isUniqueViolation } from '../../db/index.ts';
import { conflict, forbidden } from '../../http/errors.ts';
import {
  createSignInAccount,
  findAccount,
  findAccountByEmail,
  type PublicUserRow,
  setAdminFromGroups,
} from '../users/service.ts';
import type { OidcIdentity } from './oidc.ts';
import { findIdentity, findIdentityOfUser, insertIdentity, touchIdentity } from './queries.ts';

const emailSchema = z.email().max(254);

/**
 * A username for a new account from what the provider calls the person: preferred_username (its part
 * before an @), else the email's local part; reduced to the letters registration allows, 3 to 40
 * characters (room for a "-2" when taken).
 */
export function usernameFrom(identity: Pick<OidcIdentity, 'preferredUsername' | 'email'>): string {
  const raw = identity.preferredUsername ?? identity.email ?? '';
  const local = raw.includes('@') ? (raw.split('@')[0] ?? '') : raw;
  const cleaned = local
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-._]+|[-._]+$/g, '')
    .slice(0, 40)
    .replace(/[-._]+$/, '');
  return cleaned.length >= 3 ? cleaned : `user${cleaned ? `-${cleaned}` : ''}`;
}

/** The provider's groups claim names an admin group (OIDC_ADMIN_GROUPS). */
export const inAdminGroup = (identity: Pick<OidcIdentity, 'groups'>, settings: Pick<OidcSettings, 'adminGroups'>) =>
  identity.groups.some((g) => settings.adminGroups.includes(g));

/**
 * The account a validated OpenID Connect identity signs in as. An identity seen before is its linked
 * account, whatever its email says now. A new identity needs a verified email: it is linked to the
 * account with that email, or a new account is made (its username from preferred_username,
 * de-duplicated). With OIDC_ADMIN_GROUPS set, the groups claim then decides admin at every sign-in,
 * except that the last admin is never demoted (the app always keeps one; logged).
 */
export async function accountForIdentity(
  db: Db,
  identity: OidcIdentity,
  settings: OidcSettings,
  logger: Logger,
  now: Date,
): Promise<PublicUserRow> {
  let user = await knownAccount(db, identity, now);
  if (!user) {
    const email = checkedEmail(identity);
    try {
      user = await linkOrCreate(db, identity, email, inAdminGroup(identity, settings), logger, now);
    } catch (err) {
      // Two sign-ins of one new person at once (two tabs): the other one linked it first.
      if (!isUniqueViolation(err)) throw err;
      user = await knownAccount(db, identity, now);
      if (!user) throw err;
    }
  }
  if (settings.adminGroups.length > 0) {
    const admin = inAdminGroup(identity, settings);
    if ((user.role === 'admin') !== admin) {
      const { user: changed, kept } = await setAdminFromGroups(db, user.id, admin);
      if (kept) logger.warn({ userId: user.id }, 'not in an admin group, but the only admin: kept as admin');
      else logger.info({ userId: user.id, role: changed.role }, 'role set from the identity provider groups');
      user = changed;
    }
  }
  return user;
}

async function knownAccount(db: Db, identity: OidcIdentity, now: Date): Promise<PublicUserRow | undefined> {
  const link = await findIdentity(db, identity.issuer, identity.subject);
  if (!link) return undefined;
  await touchIdentity(db, link.id, now.toISOString());
  return findAccount(db, link.user_id);
}

function checkedEmail(identity: OidcIdentity): string {
  if (!identity.email) {
    throw forbidden(
      'Your identity provider sent no email address, so no account can be found or made for you. Ask an admin to release the email claim to this app.',
    );
  }
  if (!identity.emailVerified) {
    throw forbidden(
      'Your identity provider does not say that your email address is verified, so it cannot be matched to an account. Ask an admin.',
    );
  }
  const parsed = emailSchema.safeParse(identity.email);
  if (!parsed.success) throw forbidden('Your identity provider sent an email address this app cannot use. Ask an admin.');
  return parsed.data;
}

function linkOrCreate(db: Db, identity: OidcIdentity, email: string, admin: boolean, logger: Logger, now: Date) {
  return db.transaction(async (trx) => {
    const at = now.toISOString();
    const existing = await findAccountByEmail(trx, email);
    if (existing) {
      if (await findIdentityOfUser(trx, existing.id, identity.issuer)) {
        throw conflict(
          'The account with this email address is already linked to another person at your identity provider. Ask an admin.',
        );
      }
      await insertIdentity(trx, existing.id, identity.issuer, identity.subject, at);
      logger.info({ userId: existing.id }, 'identity linked to the account with its verified email');
      return existing;
    }
    const created = await createSignInAccount(trx, { username: usernameFrom(identity), email, admin }, logger);
    await insertIdentity(trx, created.id, identity.issuer, identity.subject, at);
    logger.info({ userId: created.id, username: created.username }, 'account created at single sign-on');
    return created;
  });
}
