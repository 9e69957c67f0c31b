// The one launcher behind `npm start`, `npm run worker`, `migrate`, `seed` and `user:role`:
//
//     node scripts/run.mjs [--assets] src/<entry>.ts [args...]
//
// NODE_ENV=production runs the compiled file (`dist/src/<entry>.js`, made by `npm run build`) with plain
// Node, so a production install (`npm ci --omit=dev`) needs no dev dependency: tsx is one. Anything else
// runs the TypeScript source through tsx's loader. Either way the entry runs in this very process, so
// SIGTERM reaches the app itself (graceful shutdown) with no wrapper process in between.
//
// A `.env` file in the working directory is read first; variables already set win over it.
// `--assets` (for the web server): in development, copy htmx into public/vendor first (as
// `npm run build:assets` does); in production, check that the build did.
// Plain JavaScript on purpose: it must run where TypeScript tooling is not installed.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const assets = args[0] === '--assets';
if (assets) args.shift();
const [entry, ...rest] = args;
if (!entry || !/^src\/[\w/.-]+\.ts$/.test(entry)) {
  console.error('Usage: node scripts/run.mjs [--assets] src/<entry>.ts [args...]');
  process.exit(2);
}

if (existsSync('.env')) process.loadEnvFile('.env');
const production = process.env.NODE_ENV === 'production';

function fail(message) {
  console.error(message);
  process.exit(1);
}

let target;
if (production) {
  target = path.join(root, 'dist', entry.replace(/\.ts$/, '.js'));
  if (!existsSync(target))
    fail(`${path.relative(root, target)} is missing: run \`npm run build\` first (NODE_ENV=production runs the compiled app).`);
  if (assets && !['public/vendor/htmx.min.js', 'public/js/app.js'].every((file) => existsSync(path.join(root, file)))) {
    fail('public/vendor/htmx.min.js or public/js/app.js is missing: run `npm run build` first (it makes the assets).');
  }
} else {
  target = path.join(root, entry);
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    fail('tsx is not installed (it is a dev dependency): run `npm ci`, or `npm run build` and set NODE_ENV=production.');
  }
  tsx.register();
  if (assets) await import(pathToFileURL(path.join(root, 'scripts/build-assets.ts')).href);
}

// The entry sees the argv it would have had if started directly: [node, entry, ...args].
process.argv = [process.argv[0], target, ...rest];
await import(pathToFileURL(target).href);
