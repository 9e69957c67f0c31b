import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';

/**
 * The import rules of .dependency-cruiser.cjs (npm run lint:deps): the real tree keeps them, and each
 * rule really fails on a tree that breaks it (a rule that cannot fail would guard nothing).
 */

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const depcruise = path.join(root, 'node_modules/.bin/depcruise');
const config = path.join(root, '.dependency-cruiser.cjs');

interface Outcome {
  ok: boolean;
  output: string;
}

async function cruise(cwd: string, dirs: string[]): Promise<Outcome> {
  try {
    const { stdout } = await run(depcruise, [...dirs, '--config', config, '--output-type', 'err'], { cwd });
    return { ok: true, output: stdout };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

test('src/ and migrations/ keep every rule, and the cruise really reads the TypeScript', async (t) => {
  const { ok, output } = await cruise(root, ['src', 'migrations']);
  t.true(ok, output);
  const modules = Number(/(\d+) modules/.exec(output)?.[1]);
  t.true(modules > 100, `cruised ${modules} modules: the parser must read .ts files`);
});

/** A tree of files (path -> source) in a temp folder, cruised with the project's rules. */
async function cruiseTree(t: { teardown(fn: () => void): void }, files: Record<string, string>): Promise<Outcome> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'house-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [file, source] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), source);
  }
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { allowImportingTsExtensions: true } }));
  return cruise(dir, [...new Set(Object.keys(files).map((f) => f.split('/')[0] as string))]);
}

const BREAKS: Record<string, Record<string, string>> = {
  'no-cycles': {
    'src/lib/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
    'src/lib/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
  },
  'features-through-public-modules': {
    'src/features/tickets/queries.ts': 'export const findTicket = 1;\n',
    'src/features/optics/service.ts': "import { findTicket } from '../tickets/queries.ts';\nexport const x = findTicket;\n",
  },
  'notifications-know-no-feature': {
    'src/features/tickets/service.ts': 'export const label = 1;\n',
    'src/features/notifications/outbox.ts': "import { label } from '../tickets/service.ts';\nexport const x = label;\n",
  },
  'foundations-know-no-feature': {
    'src/features/users/service.ts': 'export const who = 1;\n',
    'src/http/guards.ts': "import { who } from '../features/users/service.ts';\nexport const x = who;\n",
  },
  'routers-are-mounted-by-the-app': {
    'src/features/tickets/routes.ts': 'export const ticketRoutes = 1;\n',
    'src/features/tickets/pages.ts': "import { ticketRoutes } from './routes.ts';\nexport const x = ticketRoutes;\n",
  },
  'no-app-code-in-migrations': {
    'src/db/index.ts': 'export const db = 1;\n',
    'migrations/20260101000000_create_things.ts': "import { db } from '../src/db/index.ts';\nexport const up = db;\n",
  },
};

for (const [rule, files] of Object.entries(BREAKS)) {
  test(`a tree that breaks ${rule} fails, naming the rule`, async (t) => {
    const { ok, output } = await cruiseTree(t, files);
    t.false(ok, output);
    t.regex(output, new RegExp(`error ${rule}:`));
  });
}
