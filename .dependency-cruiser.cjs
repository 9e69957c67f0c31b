/**
 * The house rules of src/ (npm run lint:deps, part of npm test). Each rule says why in one line.
 * Features are folders under src/features/; a feature's public modules are the ones other features
 * may import: service.ts (use-cases), pages.ts (page data others compose), presenter.ts (JSON
 * shapes), states.ts and schema.ts (constants and types), outbox.ts (notifications: hand it messages).
 */
const FEATURE = '^src/features/([^/]+)/';
const PUBLIC = '(service|pages|presenter|states|schema|outbox|openapi)\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'Files that import each other cannot be understood, tested or moved one at a time.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'features-through-public-modules',
      comment: 'A feature uses another only through its public modules, so its queries and routes can change freely.',
      severity: 'error',
      from: { path: `${FEATURE}` },
      to: { path: '^src/features/([^/]+)/', pathNot: [`^src/features/$1/`, `^src/features/[^/]+/${PUBLIC}`] },
    },
    {
      name: 'notifications-know-no-feature',
      comment: 'Notifications is the ground floor: features hand it messages; it must not know what they mean.',
      severity: 'error',
      from: { path: '^src/features/notifications/' },
      to: { path: '^src/features/', pathNot: '^src/features/notifications/' },
    },
    {
      name: 'foundations-know-no-feature',
      comment: 'http/, db/ and lib/ serve every feature; a feature inside them would make every feature depend on it.',
      severity: 'error',
      from: { path: '^src/(http|db|lib)/' },
      to: { path: '^src/features/' },
    },
    {
      name: 'routers-are-mounted-by-the-app',
      comment: 'Only app.ts mounts routers: a router importing another hides where a URL is answered.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/app\\.ts$' },
      to: { path: '^src/features/[^/]+/[^/]*routes\\.ts$' },
    },
    {
      name: 'no-app-code-in-migrations',
      comment: 'A migration runs forever as written; app code changes under it.',
      severity: 'error',
      from: { path: '^migrations/' },
      to: { path: '^src/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
