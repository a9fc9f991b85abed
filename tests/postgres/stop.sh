#!/usr/bin/env bash
# Stops a cluster started by tests/postgres/start.sh and deletes its folder.
# Usage: bash tests/postgres/stop.sh [FOLDER]   (default: $JWTAPI_TEST_POSTGRES_DIR, as start.sh exported it)
set -euo pipefail

dir=${1:-${JWTAPI_TEST_POSTGRES_DIR:-}}
# only ever a folder start.sh made: this deletes it
case "$(basename "${dir:-none}")" in
  jwtapi-pg.*) ;;
  *) echo "usage: $0 FOLDER (the JWTAPI_TEST_POSTGRES_DIR that start.sh printed)" >&2; exit 1 ;;
esac
[ -d "$dir" ] || exit 0

pgbin=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
owner=()
if [ "$(id -u)" -eq 0 ]; then
  owner=(runuser -u postgres --)
fi
if [ -f "$dir/data/postmaster.pid" ]; then
  "${owner[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
fi
rm -rf "$dir"
