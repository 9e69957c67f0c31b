import { loadConfigOrExit } from '../config.ts';
import { createDb, migrateLatest, rollbackAll } from '../db/index.ts';

/** `npm run migrate` (latest) and `npm run migrate -- rollback-all`. */
const config = loadConfigOrExit();
const db = createDb(config.database, { preparedStatements: config.databasePreparedStatements });
try {
  if (process.argv[2] === 'rollback-all') {
    await rollbackAll(db);
    console.log('Rolled back every migration.');
  } else {
    const applied = await migrateLatest(db);
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Already up to date.');
  }
} finally {
  await db.destroy();
}
