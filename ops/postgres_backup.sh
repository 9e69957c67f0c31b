#!/usr/bin/env bash
# Backs up the Cable Ticketing PostgreSQL database.
#
#   DATABASE_URL=postgres://user:pass@host:5432/db [BACKUP_DIR=backups] [BACKUP_KEEP=14] ops/postgres_backup.sh
#
# Writes a pg_dump custom-format archive (compressed; pg_restore can restore all of it or single
# tables) to BACKUP_DIR/cable-ticketing-<UTC timestamp>.dump, checks that pg_restore can read it,
# then deletes all but the newest BACKUP_KEEP archives of that name pattern (nothing else in the
# folder is touched). Exits non-zero on any failure; a failed or interrupted dump leaves no file.
# Needs pg_dump/pg_restore of the server's major version or newer (the postgres:16 image has them).
set -euo pipefail
umask 077 # a dump holds emails, phone numbers and password hashes

die() {
  echo "postgres_backup: $*" >&2
  exit 1
}

[ -n "${DATABASE_URL:-}" ] || die 'DATABASE_URL is not set (postgres://user:password@host:5432/database).'
case "$DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  *) die 'DATABASE_URL is not a postgres:// URL (a SQLite database is one file: copy it with `sqlite3 <file> ".backup <copy>"`).' ;;
esac
dir=${BACKUP_DIR:-backups}
keep=${BACKUP_KEEP:-14}
[[ "$keep" =~ ^[1-9][0-9]*$ ]] || die "BACKUP_KEEP must be a whole number of at least 1 (got '$keep')."
command -v pg_dump >/dev/null || die 'pg_dump is not installed (Debian/Ubuntu: apt-get install postgresql-client).'
mkdir -p "$dir"

# One archive per second at most: names sort by time, so retention can go by name.
while :; do
  file="$dir/cable-ticketing-$(date -u +%Y%m%dT%H%M%SZ).dump"
  [ -e "$file" ] || break
  sleep 1
done
partial="$file.partial"
trap 'rm -f "$partial"' EXIT

started=$(date +%s)
pg_dump --format=custom --compress=6 --file="$partial" --dbname="$DATABASE_URL" || die 'pg_dump failed; no backup was written.'
pg_restore --list "$partial" >/dev/null || die 'the archive pg_dump wrote cannot be read back; no backup was kept.'
mv "$partial" "$file"
echo "backup: $file ($(du -h "$file" | cut -f1), $(($(date +%s) - started)) s)"

# Retention: newest first by name (the timestamp), everything past BACKUP_KEEP goes.
mapfile -t old < <(find "$dir" -maxdepth 1 -type f -name 'cable-ticketing-*.dump' | sort -r | tail -n +"$((keep + 1))")
for f in "${old[@]}"; do
  rm -f -- "$f"
  echo "removed old backup: $f"
done
