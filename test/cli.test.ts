import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { createDb, migrateLatest } from '../src/db/index.ts';
import { projectRoot } from '../src/paths.ts';
import { createUser } from './support/factories.ts';

/** `npm run user:role -- <username> <role>` against a SQLite file (the CLI talks to DATABASE_URL directly). */

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runRoleCli(databaseUrl: string, ...args: string[]): Promise<Run> {
  return runCommand('src/cli/user-role.ts', { DATABASE_URL: databaseUrl }, ...args);
}

/** One of the app's commands (a TypeScript entry point) with these variables over the test's own. */
function runCommand(entry: string, vars: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', ...vars };
  delete env.TEST_DATABASE_URL;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(projectRoot, entry), ...args],
      { cwd: projectRoot, env, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function sqliteWithUsers() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-cli-'));
  const filename = path.join(dir, 'cli.sqlite');
  const db = createDb({ client: 'sqlite', filename });
  await migrateLatest(db);
  const admin = await createUser(db, { username: 'cli_admin', role: 'admin' });
  const user = await createUser(db, { username: 'Cli_User' });
  await db.destroy();
  const roleOf = async (id: number) => {
    const check = createDb({ client: 'sqlite', filename });
    try {
      return (await check('users').where({ id }).first()).role as string;
    } finally {
      await check.destroy();
    }
  };
  return { url: `sqlite:${filename}`, admin, user, roleOf, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('user:role makes a user an admin, and back', async (t) => {
  const fixture = await sqliteWithUsers();
  t.teardown(fixture.cleanup);
  const up = await runRoleCli(fixture.url, 'cli_user', 'admin');
  t.is(up.code, 0, up.stderr);
  t.is(up.stdout.trim(), 'Cli_User is now admin.');
  t.is(await fixture.roleOf(fixture.user.id), 'admin');
  const down = await runRoleCli(fixture.url, 'Cli_User', 'user');
  t.is(down.code, 0, down.stderr);
  t.is(await fixture.roleOf(fixture.user.id), 'user');
});

test('user:role refuses an unknown user, a bad role and demoting the only admin', async (t) => {
  const fixture = await sqliteWithUsers();
  t.teardown(fixture.cleanup);
  const unknown = await runRoleCli(fixture.url, 'nobody_here', 'admin');
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /No user named nobody_here/);
  const badRole = await runRoleCli(fixture.url, 'cli_user', 'root');
  t.is(badRole.code, 2);
  t.regex(badRole.stderr, /Usage: npm run user:role -- <username> <user\|admin>/);
  const lastAdmin = await runRoleCli(fixture.url, 'cli_admin', 'user');
  t.is(lastAdmin.code, 1);
  t.regex(lastAdmin.stderr, /only admin/);
  t.is(await fixture.roleOf(fixture.admin.id), 'admin');
  t.is(await fixture.roleOf(fixture.user.id), 'user');
});

test('every command stops on a bad variable with one line naming it, and exit code 1', async (t) => {
  for (const entry of ['src/main.ts', 'src/worker-main.ts', 'src/cli/migrate.ts', 'src/cli/seed.ts', 'src/cli/user-role.ts']) {
    const args = entry.endsWith('user-role.ts') ? ['someone', 'admin'] : [];
    const run = await runCommand(entry, { PORT: 'eighty', DATABASE_URL: 'sqlite::memory:' }, ...args);
    t.is(run.code, 1, entry);
    t.is(run.stderr, 'Configuration error: Invalid PORT: Invalid input: expected number, received NaN\n', entry);
    t.is(run.stdout, '', entry);
  }
});

test('a malformed SMTP_URL stops the app and the worker with one line naming it, without the password', async (t) => {
  for (const entry of ['src/main.ts', 'src/worker-main.ts']) {
    const run = await runCommand(entry, {
      SMTP_URL: 'mail.example.com:587 user hunter2-secret',
      DATABASE_URL: 'sqlite::memory:',
    });
    t.is(run.code, 1, entry);
    t.is(run.stderr, 'Configuration error: Invalid SMTP_URL: must start with smtp:// (STARTTLS) or smtps:// (TLS)\n');
    t.false(run.stderr.includes('hunter2'));
    t.is(run.stdout, '', entry);
  }
});
