import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { projectRoot } from '../src/paths.ts';

/**
 * The deployment files, checked without Docker or Kubernetes (issue #7): every YAML parses; the
 * Dockerfile, Compose file, Helm chart and App Platform spec start the entry points that exist, with
 * the shapes DESIGN.md §11 asks for; the chart README names every value. When the tools are on PATH:
 * `docker-compose config -q` (or `docker compose config`), `helm lint --strict` and `helm template`.
 * Otherwise it says which were skipped. Exit 1 with every problem listed.
 */

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML of any shape, checked field by field below
type Doc = Record<string, any>;
const problems: string[] = [];
const notes: string[] = [];
const check = (ok: unknown, problem: string) => {
  if (!ok) problems.push(problem);
};
const read = (rel: string) => readFileSync(path.join(projectRoot, rel), 'utf8');
function yamlFile(rel: string): Doc {
  try {
    // `merge`: Compose files share settings through `<<: *anchor`.
    const doc = parse(read(rel), { merge: true });
    check(doc && typeof doc === 'object', `${rel}: not a YAML mapping`);
    return (doc ?? {}) as Doc;
  } catch (err) {
    problems.push(`${rel}: does not parse: ${err instanceof Error ? err.message : String(err)}`);
    return {};
  }
}
const onPath = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
const pkg = JSON.parse(read('package.json')) as { version: string };

/** `node dist/src/x.js` must come from an existing `src/x.ts`. */
function entryExists(command: string, where: string) {
  for (const [, rel] of command.matchAll(/dist\/((?:src|seeds)\/[\w/.-]+)\.js/g)) {
    check(existsSync(path.join(projectRoot, `${rel}.ts`)), `${where}: runs dist/${rel}.js but ${rel}.ts does not exist`);
  }
}

// ---- Dockerfile -----------------------------------------------------------------------------------
{
  const dockerfile = read('Dockerfile');
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n');
  const froms = lines.filter((l) => /^FROM\s/i.test(l));
  check(froms.length >= 3, 'Dockerfile: expected a multi-stage build (build, production deps, runtime)');
  check(/ARG NODE_IMAGE=node:24[\w.-]*slim/.test(dockerfile), 'Dockerfile: the base should be a node:24 slim image');
  for (const line of lines.filter((l) => /^COPY\s/i.test(l) && !/--from=/.test(l))) {
    const parts = line.trim().split(/\s+/).slice(1);
    for (const source of parts.slice(0, -1).filter((p) => !p.startsWith('--'))) {
      check(existsSync(path.join(projectRoot, source)), `Dockerfile: COPY ${source}: no such file in the repository`);
    }
  }
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
  check(/^USER\s+(?!root|0\b)\S+/m.test(runtime), 'Dockerfile: the runtime stage must switch to a non-root USER');
  check(/ENV NODE_ENV=production/.test(runtime), 'Dockerfile: the runtime stage must set NODE_ENV=production');
  check(/HEALTHCHECK[\s\S]*\/api\/health/.test(runtime), 'Dockerfile: no HEALTHCHECK on /api/health');
  check(
    !/--omit=dev/.test(runtime) && /npm ci --omit=dev/.test(dockerfile),
    'Dockerfile: production dependencies come from npm ci --omit=dev',
  );
  check(/^CMD \["node", "dist\/src\/main\.js"\]$/m.test(runtime), 'Dockerfile: CMD should be ["node", "dist/src/main.js"]');
  entryExists(dockerfile, 'Dockerfile');
  for (const ignored of ['node_modules', '.env', '.git']) {
    check(
      existsSync(path.join(projectRoot, '.dockerignore')) && read('.dockerignore').split('\n').includes(ignored),
      `.dockerignore: should exclude ${ignored}`,
    );
  }
}

// ---- docker-compose.yml -----------------------------------------------------------------------------
{
  const compose = yamlFile('docker-compose.yml');
  const services = (compose.services ?? {}) as Record<string, Doc>;
  for (const name of ['db', 'migrate', 'web', 'worker']) check(services[name], `docker-compose.yml: no ${name} service`);
  const { db, migrate, web, worker } = services;
  check(/^postgres:16/.test(db?.image ?? ''), 'docker-compose.yml: db should be postgres:16');
  check(
    JSON.stringify(db?.healthcheck?.test ?? '').includes('pg_isready'),
    'docker-compose.yml: db needs a pg_isready health check',
  );
  check(
    (db?.volumes ?? []).some((v: string) => String(v).startsWith('pgdata:')) && 'pgdata' in (compose.volumes ?? {}),
    'docker-compose.yml: db needs the named volume pgdata',
  );
  for (const [name, service, entry] of [
    ['migrate', migrate, 'dist/src/cli/migrate.js'],
    ['web', web, 'dist/src/main.js'],
    ['worker', worker, 'dist/src/worker-main.js'],
  ] as const) {
    const command = JSON.stringify(service?.command ?? '');
    check(command.includes(entry), `docker-compose.yml: ${name} should run ${entry}`);
    entryExists(command, `docker-compose.yml ${name}`);
    check(
      service?.env_file === '.env' || (service?.env_file ?? []).includes?.('.env'),
      `docker-compose.yml: ${name} should read .env`,
    );
  }
  for (const [name, service] of [
    ['web', web],
    ['worker', worker],
  ] as const) {
    check(service?.depends_on?.db?.condition === 'service_healthy', `docker-compose.yml: ${name} should wait for a healthy db`);
    check(
      service?.depends_on?.migrate?.condition === 'service_completed_successfully',
      `docker-compose.yml: ${name} should wait for migrate to finish`,
    );
  }
  check(
    (web?.ports ?? []).some((p: string) => /:3000$/.test(String(p))),
    'docker-compose.yml: web should publish container port 3000',
  );

  // Compose itself: Debian's docker-compose (v1), or the v2 plugin. Validated in a temp folder with
  // .env.example as .env, since a clean clone has no .env and env_file requires one.
  const tool = onPath('docker-compose')
    ? ['docker-compose']
    : spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0
      ? ['docker', 'compose']
      : undefined;
  if (tool) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-compose-'));
    try {
      copyFileSync(path.join(projectRoot, 'docker-compose.yml'), path.join(dir, 'docker-compose.yml'));
      copyFileSync(path.join(projectRoot, '.env.example'), path.join(dir, '.env'));
      const [cmd, ...args] = tool as [string, ...string[]];
      const result = spawnSync(cmd, [...args, '-f', 'docker-compose.yml', 'config', '-q'], { cwd: dir, encoding: 'utf8' });
      check(result.status === 0, `${tool.join(' ')} config -q: ${result.stderr || result.stdout}`);
      if (result.status === 0) notes.push(`${tool.join(' ')} config -q: valid`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else if (process.env.CI === 'true') {
    problems.push('docker-compose is not installed: CI validates the Compose file with it (.ci/run installs it)');
  } else notes.push('NOTICE: neither docker-compose nor `docker compose` is installed: Compose validation skipped');
}

// ---- ops/haproxy.cfg (Compose profile `scale`) ------------------------------------------------------
if (onPath('haproxy')) {
  const result = spawnSync('haproxy', ['-c', '-f', path.join(projectRoot, 'ops/haproxy.cfg')], { encoding: 'utf8' });
  check(result.status === 0, `haproxy -c ops/haproxy.cfg: ${result.stderr || result.stdout}`);
  notes.push('haproxy -c ops/haproxy.cfg: valid');
} else notes.push('NOTICE: haproxy is not installed: ops/haproxy.cfg not checked');

// ---- Helm chart -------------------------------------------------------------------------------------
{
  const chart = yamlFile('helm-chart/Chart.yaml');
  check(chart.apiVersion === 'v2', 'helm-chart/Chart.yaml: apiVersion should be v2');
  check(chart.name === 'cable-ticketing', 'helm-chart/Chart.yaml: name should be cable-ticketing');
  check(/^\d+\.\d+\.\d+/.test(String(chart.version ?? '')), 'helm-chart/Chart.yaml: version should be SemVer');
  check(
    chart.appVersion === pkg.version,
    `helm-chart/Chart.yaml: appVersion ${chart.appVersion} differs from package.json ${pkg.version}`,
  );
  const values = yamlFile('helm-chart/values.yaml');
  yamlFile('helm-chart/ci/ci-values.yaml');

  // Every value is in the README's table: maps whose keys are the user's (config, resources, ...) count as one.
  const freeForm = new Set([
    'config',
    'extraEnv',
    'resources',
    'podAnnotations',
    'annotations',
    'nodeSelector',
    'tolerations',
    'affinity',
    'topologySpreadConstraints',
    'podSecurityContext',
    'securityContext',
    'hosts',
    'imagePullSecrets',
  ]);
  const paths: string[] = [];
  const walk = (node: unknown, prefix: string) => {
    for (const [key, value] of Object.entries(node as Doc)) {
      const p = prefix ? `${prefix}.${key}` : key;
      if (value && typeof value === 'object' && !Array.isArray(value) && !freeForm.has(key) && Object.keys(value).length)
        walk(value, p);
      else paths.push(p);
    }
  };
  walk(values, '');
  const readme = read('helm-chart/README.md');
  for (const p of paths) check(readme.includes(`\`${p}`), `helm-chart/README.md: the values table does not name ${p}`);
  for (const key of ['SECRET_KEY', 'DATABASE_URL'])
    check(key in (values.secrets ?? {}), `values.yaml: secrets.${key} is missing`);
  check(values.podSecurityContext?.runAsNonRoot === true, 'values.yaml: podSecurityContext.runAsNonRoot should be true');
  check(
    values.securityContext?.readOnlyRootFilesystem === true,
    'values.yaml: securityContext.readOnlyRootFilesystem should be true',
  );

  const templates = ['web-deployment.yaml', 'worker-deployment.yaml', 'migrate-job.yaml'].map((t) =>
    read(`helm-chart/templates/${t}`),
  );
  for (const t of templates) entryExists(t, 'helm-chart/templates');

  // Without helm here, each template's actions at least open and close in pairs.
  for (const file of readdirSync(path.join(projectRoot, 'helm-chart/templates')).filter((f) => /\.(yaml|tpl)$/.test(f))) {
    const text = read(`helm-chart/templates/${file}`);
    const opened = text.match(/\{\{-?\s*(if|range|with|define)\b/g)?.length ?? 0;
    const closed = text.match(/\{\{-?\s*end\s*-?\}\}/g)?.length ?? 0;
    check(opened === closed, `helm-chart/templates/${file}: ${opened} if/range/with/define against ${closed} end`);
  }
  // Several replicas: the pods wait for the migration Job's schema; behind a pooler, no named statements.
  const configmap = read('helm-chart/templates/configmap.yaml');
  check(/MIGRATE_ON_START:/.test(configmap), 'helm-chart: the ConfigMap should set MIGRATE_ON_START');
  check(/DATABASE_PREPARED_STATEMENTS:/.test(configmap), 'helm-chart: the ConfigMap should set DATABASE_PREPARED_STATEMENTS');
  check(values.pooler && values.pgbouncer && values.database, 'values.yaml: pooler, pgbouncer and database settings are missing');
  check(
    /POOLED_DATABASE_URL/.test(read('helm-chart/templates/_helpers.tpl')) && !/POOLED_DATABASE_URL/.test(templates[2] ?? ''),
    'helm-chart: web and worker use POOLED_DATABASE_URL behind the pooler, the migration Job never does',
  );

  if (onPath('helm')) {
    const chartDir = path.join(projectRoot, 'helm-chart');
    const ci = path.join(chartDir, 'ci', 'ci-values.yaml');
    const run = (args: string[]) => execFileSync('helm', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      run(['lint', '--strict', chartDir, '-f', ci]);
      notes.push('helm lint --strict: passed');
      const kinds = (out: string) =>
        parseAllDocuments(out)
          .map((d) => d.toJSON() as Doc | null)
          .filter(Boolean)
          .map((d) => `${d?.kind}/${d?.metadata?.name}`);
      const full = kinds(run(['template', 'cable', chartDir, '-f', ci]));
      for (const expected of [
        'Deployment/cable-cable-ticketing-web',
        'Deployment/cable-cable-ticketing-worker',
        'Service/cable-cable-ticketing',
        'Ingress/cable-cable-ticketing',
        'ConfigMap/cable-cable-ticketing',
        'Secret/cable-cable-ticketing',
        'Job/cable-cable-ticketing-migrate',
        'HorizontalPodAutoscaler/cable-cable-ticketing-web',
        'PodDisruptionBudget/cable-cable-ticketing-web',
      ]) {
        check(full.includes(expected), `helm template: ${expected} was not rendered`);
      }
      const lean = kinds(
        run([
          'template',
          'cable',
          chartDir,
          '--set',
          'existingSecret=mine',
          '--set',
          'worker.enabled=false',
          '--set',
          'web.autoscaling.enabled=false',
        ]),
      );
      check(!lean.some((k) => k.startsWith('Secret/')), 'helm template: existingSecret should mean no chart-made Secret');
      check(
        !lean.includes('Deployment/cable-cable-ticketing-worker'),
        'helm template: worker.enabled=false still renders a worker',
      );
      const pooled = kinds(
        run([
          'template',
          'cable',
          chartDir,
          '-f',
          ci,
          '--set',
          'pgbouncer.enabled=true,pooler.enabled=true,metrics.serviceMonitor.enabled=true',
          '--set',
          'secrets.POOLED_DATABASE_URL=postgres://cable:pw@cable-cable-ticketing-pgbouncer:5432/cable_ticketing',
        ]),
      );
      for (const expected of [
        'Deployment/cable-cable-ticketing-pgbouncer',
        'Service/cable-cable-ticketing-pgbouncer',
        'ServiceMonitor/cable-cable-ticketing',
      ])
        check(pooled.includes(expected), `helm template with the pooler: ${expected} was not rendered`);
      const refused = spawnSync('helm', ['template', 'cable', chartDir], { encoding: 'utf8' });
      check(
        refused.status !== 0 && /SECRET_KEY is required/.test(refused.stderr),
        'helm template without secrets should fail naming SECRET_KEY',
      );
      notes.push(`helm template: ${full.length} resources rendered; existingSecret/worker/HPA switches honoured`);
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      problems.push(`helm: ${e.stdout ?? ''}${e.stderr ?? e.message}`);
    }
  } else notes.push('NOTICE: helm is not on PATH: `helm lint` and `helm template` skipped (Chart.yaml and values.yaml parsed)');
}

// ---- .do/app.yaml -----------------------------------------------------------------------------------
{
  const app = yamlFile('.do/app.yaml');
  const web = (app.services ?? []).find((s: Doc) => s.name === 'web');
  const worker = (app.workers ?? []).find((s: Doc) => s.name === 'worker');
  const migrate = (app.jobs ?? []).find((s: Doc) => s.kind === 'PRE_DEPLOY');
  check(web?.http_port === 3000 && web?.health_check?.http_path, '.do/app.yaml: web needs http_port 3000 and a health check');
  check(worker, '.do/app.yaml: no worker');
  check(migrate && String(migrate.run_command).includes('dist/src/cli/migrate.js'), '.do/app.yaml: no PRE_DEPLOY migrate job');
  for (const c of [web, worker, migrate]) if (c) entryExists(String(c.run_command ?? ''), `.do/app.yaml ${c.name}`);
  check(
    (app.databases ?? []).some((d: Doc) => d.engine === 'PG'),
    '.do/app.yaml: no managed PostgreSQL database',
  );
  const envs = (app.envs ?? []) as Doc[];
  for (const key of [
    'SECRET_KEY',
    'METRICS_TOKEN',
    'RESEND_API_KEY',
    'SENDGRID_API_KEY',
    'TWILIO_AUTH_TOKEN',
    'SMTP_URL',
    'OIDC_CLIENT_SECRET',
  ]) {
    check(envs.find((e) => e.key === key)?.type === 'SECRET', `.do/app.yaml: ${key} should be type SECRET`);
  }
  check(
    envs.some((e) => e.key === 'DATABASE_URL' && /\$\{\w+\.DATABASE_URL\}/.test(String(e.value))),
    '.do/app.yaml: DATABASE_URL should come from the database',
  );
}

for (const note of notes) console.log(note);
if (problems.length) {
  console.error(`\n${problems.length} problem(s) in the deployment files:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log('deployment files OK (Dockerfile, docker-compose.yml, helm-chart/, .do/app.yaml)');
