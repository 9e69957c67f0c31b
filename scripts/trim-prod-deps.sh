#!/usr/bin/env bash
# Trims a production node_modules (after `npm ci --omit=dev`) of what is only needed to build it:
# better-sqlite3 keeps its compiled addon (build/Release/better_sqlite3.node) and loses the SQLite
# sources and compiler objects (about 25 MB when built from source). Used by the Dockerfile and by
# scripts/check-prod-build.sh, so what CI starts is what the image ships.
# Usage: scripts/trim-prod-deps.sh [node_modules dir]   (default ./node_modules)
set -euo pipefail
modules=${1:-node_modules}
addon=$modules/better-sqlite3/build/Release/better_sqlite3.node
[ -f "$addon" ] || {
  echo "trim-prod-deps: $addon not found (was better-sqlite3 installed and built?)" >&2
  exit 1
}
keep=$(mktemp)
cp "$addon" "$keep"
rm -rf "$modules/better-sqlite3/build" "$modules/better-sqlite3/deps" "$modules/better-sqlite3/src"
mkdir -p "$(dirname "$addon")"
mv "$keep" "$addon"
chmod 755 "$addon"
