import { loadConfigOrExit } from '../config.ts';
import { createDb, migrateLatest } from '../db/index.ts';
import { roleSchema } from '../features/users/schema.ts';
import { changeRole, findUserByUsername } from '../features/users/service.ts';

/** `npm run user:role -- <username> <user|admin>`: for the operator, e.g. to recover admin access. */
const [username, roleArg] = process.argv.slice(2);
const role = roleSchema.safeParse(roleArg);
if (!username || !role.success) {
  console.error('Usage: npm run user:role -- <username> <user|admin>');
  process.exit(2);
}
const config = loadConfigOrExit();
const db = createDb(config.database, { preparedStatements: config.databasePreparedStatements });
try {
  await migrateLatest(db);
  const user = await findUserByUsername(db, username);
  if (!user) {
    console.error(`No user named ${username}.`);
    process.exitCode = 1;
  } else {
    await changeRole(db, user.id, role.data);
    console.log(`${user.username} is now ${role.data}.`);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
} finally {
  await db.destroy();
}
