#!/usr/bin/env bash
# The multi-instance check (see scale_out.py): a private PostgreSQL (tests/postgres/start.sh), then two JwtApi
# instances from a Release publish behind nginx. Needs Debian's postgresql and nginx; .ci/run installs both
# and calls this.
# usage: tests/scale-out/run.sh PUBLISHED_DIR   (the output of dotnet publish src/JwtApi)
set -euo pipefail
out=$(readlink -f "$1")
here=$(dirname "$(readlink -f "$0")")
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || { echo "needs Debian's nginx (apt-get install -y nginx)" >&2; exit 1; }
pgbin=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

eval "$(bash "$here/../postgres/start.sh")"
trap 'bash "$here/../postgres/stop.sh" "$JWTAPI_TEST_POSTGRES_DIR"' EXIT
port=$(sed -E 's/.*Port=([0-9]+).*/\1/' <<<"$JWTAPI_TEST_POSTGRES")
"$pgbin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc 'create database jwtapi' >/dev/null

python3 "$here/scale_out.py" "$out" "${JWTAPI_TEST_POSTGRES/Database=postgres/Database=jwtapi}" \
  "$pgbin/pg_ctl" "$JWTAPI_TEST_POSTGRES_DIR/data"
