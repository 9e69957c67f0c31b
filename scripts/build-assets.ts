import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { publicDir } from '../src/paths.ts';

/** Copies htmx from node_modules into public/vendor (served by us, never a CDN). */
const require = createRequire(import.meta.url);
const htmxDir = path.dirname(require.resolve('htmx.org/package.json'));
const target = path.join(publicDir, 'vendor');
mkdirSync(target, { recursive: true });
copyFileSync(path.join(htmxDir, 'dist', 'htmx.min.js'), path.join(target, 'htmx.min.js'));
console.log('public/vendor/htmx.min.js copied from htmx.org');
