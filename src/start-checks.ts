import type { Config } from './config.ts';
import type { Db } from './db/index.ts';
import { missingEscalationUser } from './features/approvals/service.ts';

/**
 * Configuration that only the database can check, once it is migrated: every name in
 * APPROVAL_ESCALATION_USERS must be an account. A missing one stops the process with one line, as a
 * bad variable does, rather than escalating requests to nobody.
 */
export async function exitOnMissingEscalationUser(db: Db, config: Config): Promise<void> {
  const missing = await missingEscalationUser(db, config.approvals);
  if (!missing) return;
  process.stderr.write(`Configuration error: Invalid APPROVAL_ESCALATION_USERS: no account is called "${missing}"\n`);
  await db.destroy();
  process.exit(1);
}
