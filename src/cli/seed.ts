import { type DemoCredentials, SeedRefused, seedDemoData } from '../../seeds/demo.ts';
import { loadConfigOrExit } from '../config.ts';
import { createDb, migrateLatest } from '../db/index.ts';
import { createLogger } from '../logger.ts';

/**
 * `npm run seed [-- --force]`: demo data for a demo or a local try-out (seeds/demo.ts), on DATABASE_URL.
 * Migrates first; running it again changes nothing. Prints the demo accounts and their passwords.
 */
const force = process.argv.slice(2).includes('--force');
const unknown = process.argv.slice(2).filter((a) => a !== '--force');
if (unknown.length) {
  console.error('Usage: npm run seed [-- --force]   (--force: add demo data to a database that already has accounts)');
  process.exit(2);
}

function table(credentials: DemoCredentials[]): string {
  const width = Math.max(...credentials.map((c) => c.username.length));
  const pass = Math.max(...credentials.map((c) => c.password.length));
  return credentials
    .map((c) => `  ${c.username.padEnd(width)}  ${c.password.padEnd(pass)}  ${c.role.padEnd(5)}  ${c.who}`)
    .join('\n');
}

const config = loadConfigOrExit();
const logger = createLogger(config.logLevel === 'info' ? 'error' : config.logLevel);
const db = createDb(config.database, { preparedStatements: config.databasePreparedStatements });
try {
  await migrateLatest(db);
  const result = await seedDemoData(db, config, logger, { force });
  const note = config.demoPassword
    ? '(passwords from DEMO_PASSWORD)'
    : '(DEMO-ONLY fixed passwords: never use these on a real deployment)';
  if (result.status === 'present') {
    console.log(`Demo data is already loaded; nothing was added. The demo accounts ${note}:\n${table(result.credentials)}`);
  } else {
    console.log(
      [
        `Demo data loaded: ${result.counts.tickets} cable requests (one in every status, one deleted), ${result.counts.receipts} cable receipts, ${result.counts.opticsRequests} optics requests.`,
        `Sign in at ${config.appUrl}/login as ${note}:`,
        table(result.credentials),
        `Review link for a pending request (what the inventory person gets by email/SMS): ${result.reviewUrl}`,
      ].join('\n'),
    );
  }
} catch (err) {
  console.error(
    err instanceof SeedRefused
      ? `Not seeding: ${err.message}`
      : `Seeding failed: ${err instanceof Error ? err.message : String(err)}`,
  );
  process.exitCode = 1;
} finally {
  await db.destroy();
}
