#!/usr/bin/env bash
# Proves the production build (issue #7): `npm run build`, then a clean copy of exactly what the
# Dockerfile ships (package*.json, dist/, views/, public/, scripts/run.mjs) with `npm ci --omit=dev`
# (no tsx, no TypeScript), started as production with `npm start`:
#   - SQLite: start (migrates), /api/health, /api/ready, a page, a fingerprinted asset, /metrics behind
#     METRICS_TOKEN, SIGTERM -> exit 0;
#   - PostgreSQL (when one answers at PGHOST:PGPORT): `npm run migrate`, `npm run seed`, web with
#     WORKER_IN_PROCESS=false beside `npm run worker`, a demo sign-in, SIGTERM to both -> exit 0.
# Usage: scripts/check-prod-build.sh   (KEEP_PROD_CHECK=1 keeps the temp dir for a look afterwards;
# PGHOST/PGPORT/PGUSER as for psql, default 127.0.0.1, 5432, postgres; .ci/run sets them through
# scripts/with-test-pg.ts)
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
work=$(mktemp -d "${TMPDIR:-/tmp}/ct-prod-check.XXXXXX")
pids=()
pg_db=cable_ticketing_prodcheck_$$
pg_url=
cleanup() {
  local status=$?
  # Only what this script started: each npm process and its own children (by parent PID).
  for pid in "${pids[@]}"; do
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ -n "$pg_url" ]; then psql -q -d postgres -c "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1 || true; fi
  if [ "$status" -ne 0 ]; then
    echo "check-prod-build FAILED (exit $status). Server logs:" >&2
    tail -n 40 "$work"/*.log 2>/dev/null >&2 || true
  fi
  if [ "${KEEP_PROD_CHECK:-}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
say() { printf -- '-- %s\n' "$*"; }
fail() {
  echo "check-prod-build: $*" >&2
  exit 1
}

say 'npm run build'
npm run build --silent

say "production copy in $work/app"
app=$work/app
mkdir -p "$app/scripts"
cp package.json package-lock.json "$app/"
cp -R dist views public "$app/"
cp scripts/run.mjs "$app/scripts/"

say 'npm ci --omit=dev (better-sqlite3 compiles from source here: about a minute)'
started=$SECONDS
(cd "$app" && timeout 15m npm ci --omit=dev --no-audit --no-fund --loglevel=error)
echo "   took $((SECONDS - started)) s"
for dev in tsx typescript ava @biomejs/biome; do
  [ ! -e "$app/node_modules/$dev" ] || fail "dev dependency $dev was installed"
done
scripts/trim-prod-deps.sh "$app/node_modules" # as the Dockerfile does
[ -f "$app/node_modules/better-sqlite3/build/Release/better_sqlite3.node" ] || fail 'better-sqlite3 was not built'
echo "   production node_modules: $(du -sh "$app/node_modules" | cut -f1)"
[ -e "$app/node_modules/prom-client" ] || fail 'prom-client (a runtime dependency) is missing'

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

# wait_for <url> <expected status> <log file>
wait_for() {
  local url=$1 want=$2 log=$3 code
  for _ in $(seq 1 120); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)
    [ "$code" = "$want" ] && return 0
    sleep 0.5
  done
  cat "$log" >&2
  fail "$url did not answer $want (last: $code)"
}

# expect <status> <url> [curl args...]
expect() {
  local want=$1 url=$2 code
  shift 2
  code=$(curl -s -o "$work/body" -w '%{http_code}' "$@" "$url")
  [ "$code" = "$want" ] || fail "$url answered $code, expected $want: $(head -c 300 "$work/body")"
}

# stop <pid> <name>: SIGTERM, then the exit code must be 0.
stop() {
  local pid=$1 name=$2 code=0
  kill -TERM "$pid"
  wait "$pid" || code=$?
  [ "$code" -eq 0 ] || fail "$name exited $code after SIGTERM"
  echo "   $name stopped on SIGTERM, exit 0"
}

export NODE_ENV=production
export SECRET_KEY=prod-check-secret-0123456789abcdef0123
export METRICS_TOKEN=prod-check-metrics-token-0123456789
export LOG_LEVEL=info
export PGOPTIONS='--client-min-messages=warning'
# Production cookies are Secure: the app expects TLS in front of it (a proxy setting X-Forwarded-Proto).
export TRUST_PROXY=true
https=(-H 'X-Forwarded-Proto: https')

say 'SQLite: npm start (production) migrates and serves'
port=$(free_port)
(cd "$app" && PORT=$port HOST=127.0.0.1 DATABASE_URL="sqlite:$work/data/app.sqlite" exec npm start) >"$work/sqlite.log" 2>&1 &
web=$!
pids+=("$web")
base=http://127.0.0.1:$port
wait_for "$base/api/health" 200 "$work/sqlite.log"
expect 200 "$base/api/ready"
expect 200 "$base/login" "${https[@]}"
grep -q '/assets/vendor/htmx\.min\.[0-9a-f]\{10\}\.js' "$work/body" || fail 'the sign-in page has no fingerprinted htmx URL'
asset=$(grep -o '/assets/app\.[0-9a-f]\{10\}\.css' "$work/body" | head -n 1)
[ -n "$asset" ] || fail 'the sign-in page has no fingerprinted stylesheet'
expect 200 "$base$asset"
expect 401 "$base/metrics"
expect 200 "$base/metrics" -H "Authorization: Bearer $METRICS_TOKEN"
grep -q '^cable_outbox_depth ' "$work/body" || fail '/metrics has no cable_outbox_depth'
grep -q '"msg":"migrations up to date"' "$work/sqlite.log" || fail 'no migration log line'
grep -q '"level":' "$work/sqlite.log" || fail 'logs are not JSON'
stop "$web" 'npm start (SQLite)'
grep -q '"msg":"stopped"' "$work/sqlite.log" || fail 'no "stopped" log line after SIGTERM'

if pg_isready -q 2>/dev/null; then
  say 'PostgreSQL: npm run migrate, npm run seed, web + npm run worker'
  psql -q -d postgres -c "DROP DATABASE IF EXISTS $pg_db" -c "CREATE DATABASE $pg_db" >/dev/null
  pg_url=postgres://$PGUSER@$PGHOST:$PGPORT/$pg_db
  export DATABASE_URL=$pg_url DEMO_PASSWORD=prod-check-demo-pass
  (cd "$app" && npm run --silent migrate) | tee "$work/migrate.log"
  grep -q '^Applied: ' "$work/migrate.log" || fail 'npm run migrate applied nothing'
  (cd "$app" && npm run --silent seed) | tee "$work/seed.log"
  grep -q 'Demo data loaded' "$work/seed.log" || fail 'npm run seed loaded nothing'
  port=$(free_port)
  (cd "$app" && PORT=$port HOST=127.0.0.1 WORKER_IN_PROCESS=false exec npm start) >"$work/pg-web.log" 2>&1 &
  web=$!
  pids+=("$web")
  (cd "$app" && exec npm run worker) >"$work/pg-worker.log" 2>&1 &
  worker=$!
  pids+=("$worker")
  base=http://127.0.0.1:$port
  wait_for "$base/api/health" 200 "$work/pg-web.log"
  expect 200 "$base/api/ready"
  expect 200 "$base/api/login" "${https[@]}" -H 'content-type: application/json' -d '{"username":"demo.tech","password":"prod-check-demo-pass"}'
  # The worker delivers (here: skips, no provider is configured) the seeded outbox.
  for _ in $(seq 1 40); do
    queued=$(psql -tA -d "$pg_db" -c "SELECT count(*) FROM notifications WHERE status IN ('queued','sending')")
    [ "$queued" = 0 ] && break
    sleep 0.5
  done
  [ "$queued" = 0 ] || fail "the worker left $queued notifications queued"
  grep -q '"msg":"notification worker started"' "$work/pg-worker.log" || fail 'the worker did not start'
  stop "$web" 'npm start (PostgreSQL)'
  stop "$worker" 'npm run worker'
else
  say "PostgreSQL: no server at $PGHOST:$PGPORT, skipped"
fi

say 'production build OK'
