#!/usr/bin/env bash
# Starts a private, throwaway PostgreSQL cluster for the test suite: its own folder under the temp directory,
# listening on 127.0.0.1 only, on a free port, trusting local connections, with durability off (fsync,
# synchronous commit and full-page writes: nothing in it outlives the run). Needs the server binaries
# (Debian: apt-get install -y postgresql). Prints the two variables to export:
#
#   eval "$(bash tests/postgres/start.sh)"
#   dotnet test                      # every test factory makes its own database there, and drops it
#   bash tests/postgres/stop.sh      # stops the cluster and deletes its folder
#
# As root, the cluster runs as the postgres user (the server refuses to run as root).
set -euo pipefail

pgbin=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
if [ ! -x "$pgbin/initdb" ]; then
  echo "PostgreSQL server binaries not found: apt-get install -y postgresql (or set PGBIN)." >&2
  exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/jwtapi-pg.XXXXXX")
owner=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$dir"
  owner=(runuser -u postgres --)
fi

if ! "${owner[@]}" "$pgbin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
  cat "$dir/initdb.log" >&2
  rm -rf "$dir"
  exit 1
fi

# A port can be taken between the check and the start: try a few.
for _ in 1 2 3 4 5 6 7 8 9 10; do
  port=$((20000 + RANDOM % 40000))
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    continue
  fi
  if "${owner[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
      "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      >/dev/null; then
    echo "export JWTAPI_TEST_POSTGRES='Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres'"
    echo "export JWTAPI_TEST_POSTGRES_DIR='$dir'"
    exit 0
  fi
done
tail -20 "$dir/server.log" >&2 || true
rm -rf "$dir"
echo "PostgreSQL did not start." >&2
exit 1
