#!/usr/bin/env bash
# Proves ops/postgres_backup.sh and ops/postgres_restore.sh on the local PostgreSQL (issue #7):
# a scratch database is migrated and seeded with the demo data, backed up, changed, restored over
# itself, then dropped, re-created empty and restored again; each time every table's row count and
# content checksum, and every sequence, must equal what they were at backup time. Also: retention
# (BACKUP_KEEP), and the refusals (no file, a missing file, a failed dump leaves nothing).
# Usage: scripts/check-backup-restore.sh   (PGHOST/PGPORT/PGUSER as for psql; default 127.0.0.1, 5432,
# postgres; `npx tsx scripts/with-test-pg.ts bash scripts/check-backup-restore.sh` brings a server)
set -euo pipefail

cd "$(dirname "$0")/.."
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
export PGOPTIONS='--client-min-messages=warning'
db=cable_ticketing_backup_check_$$
export DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$db"
work=$(mktemp -d "${TMPDIR:-/tmp}/ct-backup-check.XXXXXX")
backups=$work/backups
cleanup() {
  psql -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
say() { printf -- '-- %s\n' "$*"; }
fail() {
  echo "check-backup-restore: $*" >&2
  exit 1
}

for tool in pg_isready psql pg_dump pg_restore; do
  command -v "$tool" >/dev/null || fail "$tool is missing: install PostgreSQL's client tools (Debian/Ubuntu: apt-get install postgresql-client)"
done
pg_isready -q || fail "no PostgreSQL answers on $PGHOST:$PGPORT"
psql -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db" >/dev/null

say 'migrate and seed a scratch database'
npx tsx src/cli/migrate.ts >/dev/null
DEMO_PASSWORD= npx tsx src/cli/seed.ts >/dev/null

# Every table's row count and an md5 of its rows in a fixed order, then every sequence's position.
snapshot() {
  psql -X -tA -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
SELECT table_name || ' rows=' || x.n || ' md5=' || x.h
FROM information_schema.tables,
  LATERAL (
    SELECT (xpath('/row/n/text()', r))[1]::text AS n, (xpath('/row/h/text()', r))[1]::text AS h
    FROM query_to_xml(format('SELECT count(*) AS n, md5(coalesce(string_agg(t::text, ''|'' ORDER BY t::text), '''')) AS h FROM %I.%I t',
                             table_schema, table_name), false, true, '') AS r
  ) x
WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
ORDER BY table_name;
SELECT 'sequence ' || sequencename || ' last_value=' || coalesce(last_value::text, 'null')
FROM pg_sequences WHERE schemaname = 'public' ORDER BY sequencename;
SQL
}
snapshot >"$work/before.txt"
tables=$(grep -c ' rows=' "$work/before.txt")
[ "$tables" -ge 10 ] || fail "only $tables tables found: did the migrations run?"
grep -q '^tickets rows=8 ' "$work/before.txt" || fail "the seed did not create 8 tickets: $(grep '^tickets ' "$work/before.txt")"
echo "   $tables tables, $(awk -F'rows=' '/ rows=/{split($2,a," "); s+=a[1]} END{print s}' "$work/before.txt") rows"

say 'backup'
BACKUP_DIR=$backups BACKUP_KEEP=2 ops/postgres_backup.sh
mapfile -t files < <(find "$backups" -name 'cable-ticketing-*.dump')
[ "${#files[@]}" -eq 1 ] || fail "expected one backup file, found ${#files[@]}"
dump=${files[0]}
[[ "$(basename "$dump")" =~ ^cable-ticketing-[0-9]{8}T[0-9]{6}Z\.dump$ ]] || fail "unexpected backup name: $dump"

say 'change the database after the backup, then restore over it'
psql -q -v ON_ERROR_STOP=1 -d "$db" -c "UPDATE users SET role = 'admin' WHERE username = 'demo.tech'" \
  -c "DELETE FROM sessions" -c "UPDATE tickets SET notes = 'changed after the backup' WHERE id = 1" >/dev/null
npx tsx src/cli/seed.ts --force >/dev/null 2>&1 || true
snapshot >"$work/changed.txt"
! cmp -s "$work/before.txt" "$work/changed.txt" || fail 'the database did not change after the backup'
ops/postgres_restore.sh --yes "$dump"
snapshot >"$work/restored.txt"
diff -u "$work/before.txt" "$work/restored.txt" || fail 'restoring over the changed database did not bring back the backed-up rows'
echo '   every table and sequence as at backup time'

say 'wipe (drop and re-create the database empty), then restore'
psql -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE $db" -c "CREATE DATABASE $db" >/dev/null
[ "$(psql -tA -d "$db" -c "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")" = 0 ] || fail 'not wiped'
ops/postgres_restore.sh --yes "$dump"
snapshot >"$work/restored-empty.txt"
diff -u "$work/before.txt" "$work/restored-empty.txt" || fail 'restoring into an empty database did not bring back the same rows'
echo '   every table and sequence as at backup time'
npx tsx src/cli/migrate.ts | grep -q 'Already up to date' || fail 'the restored database is not at the latest migration'
npx tsx src/cli/seed.ts | grep -q 'already loaded' || fail 'the restored database does not hold the demo data'

say 'retention: BACKUP_KEEP=2 keeps the two newest'
BACKUP_DIR=$backups BACKUP_KEEP=2 ops/postgres_backup.sh >/dev/null
BACKUP_DIR=$backups BACKUP_KEEP=2 ops/postgres_backup.sh >"$work/third.txt"
mapfile -t files < <(find "$backups" -name 'cable-ticketing-*.dump' | sort)
[ "${#files[@]}" -eq 2 ] || fail "expected 2 backups after retention, found ${#files[@]}"
[ ! -e "$dump" ] || fail 'the oldest backup was not removed'
grep -q "removed old backup: $dump" "$work/third.txt" || fail 'retention did not say what it removed'
touch "$backups/keep-me.txt"
BACKUP_DIR=$backups BACKUP_KEEP=1 ops/postgres_backup.sh >/dev/null
[ -e "$backups/keep-me.txt" ] || fail 'retention touched a file that is not a backup'

say 'refusals and failures'
set +e
ops/postgres_restore.sh >/dev/null 2>"$work/err"
code=$?
set -e
[ "$code" -eq 2 ] && grep -q '^postgres_restore: usage:' "$work/err" || fail "restore without a file: exit $code, $(cat "$work/err")"
if ops/postgres_restore.sh --yes "$work/no-such.dump" 2>"$work/err"; then fail 'restore of a missing file succeeded'; fi
grep -q 'no such backup file' "$work/err" || fail "missing file: $(cat "$work/err")"
echo 'not a dump' >"$work/junk.dump"
if ops/postgres_restore.sh --yes "$work/junk.dump" 2>"$work/err"; then fail 'restore of a junk file succeeded'; fi
if ops/postgres_restore.sh "$(find "$backups" -name '*.dump' | head -n 1)" </dev/null 2>"$work/err"; then fail 'an unconfirmed restore ran'; fi
grep -q 'pass --yes' "$work/err" || fail "unconfirmed restore: $(cat "$work/err")"
before=$(find "$backups" -type f | wc -l)
if DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/${db}_missing" BACKUP_DIR=$backups ops/postgres_backup.sh 2>"$work/err"; then
  fail 'a backup of a missing database succeeded'
fi
[ "$(find "$backups" -type f | wc -l)" -eq "$before" ] || fail 'a failed backup left a file behind'
if DATABASE_URL=sqlite:data/x.sqlite ops/postgres_backup.sh 2>/dev/null; then fail 'a SQLite URL was accepted'; fi
if BACKUP_KEEP=0 ops/postgres_backup.sh 2>/dev/null; then fail 'BACKUP_KEEP=0 was accepted'; fi

say 'backup and restore OK'
