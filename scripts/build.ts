import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { projectRoot } from '../src/paths.ts';

/**
 * `npm run build`: a clean `dist/` (a migration deleted from the sources must not live on as stale JS
 * that the migrator would still run), TypeScript compiled by tsconfig.build.json, and htmx copied into
 * public/vendor. Fingerprinted asset URLs need no build step: src/http/assets.ts hashes public/ at start.
 */
const require = createRequire(import.meta.url);
rmSync(path.join(projectRoot, 'dist'), { recursive: true, force: true });
const tsc = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
  cwd: projectRoot,
  stdio: 'inherit',
});
console.log('dist/ compiled (tsconfig.build.json)');
await import('./build-assets.ts');
