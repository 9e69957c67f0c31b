#!/usr/bin/env bash
# Restores a backup made by ops/postgres_backup.sh into DATABASE_URL.
#
#   DATABASE_URL=postgres://user:pass@host:5432/db ops/postgres_restore.sh [--yes] <file.dump>
#
# Stop the web app and the workers first. What the archive holds replaces what the database has:
# --clean --if-exists drops each of the archive's objects before re-creating it (objects the archive
# does not know, e.g. tables from a later migration, are left alone: to go back to an older release,
# restore into an empty database), --no-owner --no-privileges make the restoring role the owner, and
# --single-transaction makes it all or nothing: a failed restore leaves the database as it was.
# On a terminal it asks first; --yes (or RESTORE_CONFIRM=yes) skips the question.
set -euo pipefail

die() {
  echo "postgres_restore: $*" >&2
  exit "${2:-1}"
}
usage='usage: ops/postgres_restore.sh [--yes] <backup file made by ops/postgres_backup.sh>'

yes=${RESTORE_CONFIRM:-}
if [ "${1:-}" = --yes ]; then
  yes=yes
  shift
fi
[ $# -eq 1 ] || die "$usage" 2
file=$1
[ -f "$file" ] || die "no such backup file: $file"
[ -n "${DATABASE_URL:-}" ] || die 'DATABASE_URL is not set (postgres://user:password@host:5432/database).'
case "$DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  *) die 'DATABASE_URL is not a postgres:// URL.' ;;
esac
command -v pg_restore >/dev/null || die 'pg_restore is not installed (Debian/Ubuntu: apt-get install postgresql-client).'
pg_restore --list "$file" >/dev/null 2>&1 || die "$file is not a pg_dump custom-format archive."

# The target, without its password, for the question and the log.
target=$(printf '%s' "$DATABASE_URL" | sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#')
if [ "$yes" != yes ]; then
  [ -t 0 ] || die 'not on a terminal: pass --yes (or RESTORE_CONFIRM=yes) to restore without asking.'
  read -r -p "Replace the contents of $target with $file? Type yes: " answer
  [ "$answer" = yes ] || die 'not restored.'
fi

started=$(date +%s)
pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
  --dbname="$DATABASE_URL" "$file" || die 'pg_restore failed; the transaction was rolled back and nothing changed.'
echo "restored $file into $target in $(($(date +%s) - started)) s"
