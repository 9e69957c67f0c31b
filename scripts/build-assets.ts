import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { transformSync } from 'esbuild';
import { projectRoot, publicDir } from '../src/paths.ts';

/**
 * Copies htmx from node_modules into public/vendor (served by us, never a CDN), and minifies the app's
 * own browser scripts (src/client/*.js: the page script, the offline queue, the service worker) into
 * public/js/. The sources keep their comments; phones get ~40 % fewer bytes (test/page-weight.test.ts
 * holds them to their budget). Both folders are build output (gitignored).
 */
const require = createRequire(import.meta.url);
const htmxDir = path.dirname(require.resolve('htmx.org/package.json'));
const vendor = path.join(publicDir, 'vendor');
mkdirSync(vendor, { recursive: true });
copyFileSync(path.join(htmxDir, 'dist', 'htmx.min.js'), path.join(vendor, 'htmx.min.js'));

const clientDir = path.join(projectRoot, 'src', 'client');
const scripts = path.join(publicDir, 'js');
mkdirSync(scripts, { recursive: true });
const names = readdirSync(clientDir).filter((name) => name.endsWith('.js'));
for (const name of names) {
  const source = readFileSync(path.join(clientDir, name), 'utf8');
  // Browsers with service workers, IndexedDB and ?. (Chrome and Android 90+, Safari 15+, Firefox 100+).
  // The worker's code is not in a function of its own like the others: wrapped in one (iife), its
  // top-level names are its own and are shortened too.
  const { code } = transformSync(source, {
    minify: true,
    target: ['chrome90', 'safari15', 'firefox100'],
    loader: 'js',
    format: name === 'worker.js' ? 'iife' : undefined,
  });
  writeFileSync(path.join(scripts, name), code);
}
console.log(`public/vendor/htmx.min.js copied from htmx.org; public/js/ minified from src/client (${names.join(', ')})`);
