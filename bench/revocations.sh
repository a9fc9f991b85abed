#!/usr/bin/env bash
# The revocation list with a month of logouts, for docs/PERFORMANCE.md: start-up time (process start to
# /health answering), idle RSS, and the CPU of twelve sync rounds (one of them a full reload), with an empty
# revocation table and with ROWS family revocations older than the access-token lifetime, on SQLite and on a
# private PostgreSQL cluster. Each measurement is repeated REPEAT times on the same data. Every step is bounded
# by `timeout`, servers listen on 127.0.0.1 only, and every process this starts is stopped by its PID on exit.
#
#   bash bench/revocations.sh              # this checkout
#   REF=main bash bench/revocations.sh     # a commit, built from `git archive` (nothing checked out)
#
# ROWS=1000000 REPEAT=3 DBS="sqlite postgres" PORT=5098 SETTLE=15 (seconds idle before RSS and CPU are read). Needs sqlite3, curl, and the PostgreSQL server
# binaries and psql for postgres (apt-get install -y sqlite3 postgresql).
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-1000000}
REPEAT=${REPEAT:-3}
DBS=${DBS:-sqlite postgres}
PORT=${PORT:-5098}
REF=${REF:-}
BASE=http://127.0.0.1:$PORT
SETTLE=${SETTLE:-15}
INTERVAL=1   # seconds between sync rounds: a full reload every 12 s instead of every minute

WORK=$(mktemp -d)
SERVER=
PG_DIR=
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  if [ -n "$PG_DIR" ]; then JWTAPI_TEST_POSTGRES_DIR=$PG_DIR timeout 60 bash tests/postgres/stop.sh >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP   # so a stopped run cleans up too

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "port $PORT is taken: set PORT" >&2; exit 1
fi

SRC=$PWD
if [ -n "$REF" ]; then
  SRC=$WORK/src
  mkdir -p "$SRC"
  git archive "$REF" | tar -x -C "$SRC"
fi
echo "# building ${REF:-this checkout} (Release)" >&2
timeout 600 dotnet publish "$SRC/src/JwtApi/JwtApi.csproj" -c Release -o "$WORK/out" --nologo -v q >&2

JWT_KEY=$(head -c 32 /dev/urandom | base64)
REFRESH_KEY=$(head -c 32 /dev/urandom | base64)

# start_server DB: waits for /health; STARTUP_MS is then the time from process start to the first 200
start_server() {
  local db=$1 connection provider
  if [ "$db" = sqlite ]; then
    provider=Sqlite; connection="Data Source=$WORK/data/users.db"
  else
    provider=Postgres; connection="$PG_CONNECTION;Database=revbench"
  fi
  local started; started=$(date +%s%N)
  (cd "$WORK/out" && exec env ASPNETCORE_ENVIRONMENT=Production \
    Database__Provider="$provider" ConnectionStrings__Users="$connection" \
    Jwt__Algorithm=HS256 Jwt__SigningKey="$JWT_KEY" Jwt__RefreshSigningKey="$REFRESH_KEY" \
    Jwt__RevocationSyncInterval="00:00:0$INTERVAL" \
    Logging__LogLevel__JwtApi.Tokens.RevocationSync=Debug \
    dotnet JwtApi.dll --urls "$BASE") >"$WORK/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1200); do
    if curl -sf -o /dev/null "$BASE/health"; then
      STARTUP_MS=$(( ($(date +%s%N) - started) / 1000000 ))
      return 0
    fi
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.05
  done
  echo "the server did not start:" >&2; cat "$WORK/server.log" >&2; exit 1
}

stop_server() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  SERVER=
}

rss_mb() { awk '/^VmRSS/ {printf "%d", $2 / 1024}' "/proc/$SERVER/status"; }

# user + system CPU of the server so far, in milliseconds
cpu_ms() { awk -v tck="$(getconf CLK_TCK)" '{printf "%d", ($14 + $15) * 1000 / tck}' "/proc/$SERVER/stat"; }

fresh_database() {
  local db=$1
  if [ "$db" = sqlite ]; then
    rm -rf "$WORK/data" && mkdir -p "$WORK/data"
  else
    PGOPTIONS=--client-min-messages=warning timeout 60 psql "$PG_URL" -qc 'DROP DATABASE IF EXISTS revbench WITH (FORCE)' -c 'CREATE DATABASE revbench' >/dev/null
  fi
}

# fill DB N: N logouts revoked 10 days ago, no longer listed, kept 20 more days; family ids of the length we issue
fill() {
  local db=$1 n=$2 now; now=$(date +%s)
  local revoked=$((now - 10 * 86400)) expires=$((now + 20 * 86400))
  local columns='"Kind", "Key", "RevokedAt", "MinTokenVersion", "ExpiresAt"' values="2, KEY, $revoked, 0, $expires"
  local has_listed
  if [ "$db" = sqlite ]; then
    has_listed=$(timeout 60 sqlite3 "$WORK/data/users.db" "SELECT count(*) FROM pragma_table_info('revocations') WHERE name = 'ListedUntil'")
  else
    has_listed=$(timeout 60 psql "$PG_URL/revbench" -tAc "SELECT count(*) FROM information_schema.columns WHERE table_name = 'revocations' AND column_name = 'ListedUntil'")
  fi
  if [ "$has_listed" = 1 ]; then
    columns="$columns, \"ListedUntil\""; values="$values, $((revoked + 4860))"
  fi
  local key
  if [ "$db" = sqlite ]; then
    key="printf('f%021d', i)"
    timeout 600 sqlite3 "$WORK/data/users.db" \
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n)
       INSERT INTO revocations ($columns) SELECT ${values/KEY/$key} FROM n;"
  else
    key="'f' || lpad(i::text, 21, '0')"
    timeout 600 psql "$PG_URL/revbench" -qc \
      "INSERT INTO revocations ($columns) SELECT ${values/KEY/$key} FROM generate_series(1, $n) AS i;" \
      -c 'VACUUM ANALYZE revocations' >/dev/null
  fi
}

if [[ " $DBS " == *" postgres "* ]]; then
  eval "$(timeout 120 bash tests/postgres/start.sh)"
  PG_DIR=$JWTAPI_TEST_POSTGRES_DIR
  PG_CONNECTION=${JWTAPI_TEST_POSTGRES%;Database=postgres}
  PG_PORT=$(sed -E 's/.*Port=([0-9]+).*/\1/' <<<"$JWTAPI_TEST_POSTGRES")
  PG_URL=postgresql://postgres@127.0.0.1:$PG_PORT
fi

printf '| build | database | old logouts | start-up (ms) | idle RSS (MB) | CPU of 12 sync rounds, 1 full (ms) | full reload as logged |\n'
printf '|---|---|---:|---:|---:|---:|---|\n'
for db in $DBS; do
  for n in 0 "$ROWS"; do
    fresh_database "$db"
    start_server "$db"   # creates the schema
    stop_server
    [ "$n" -gt 0 ] && fill "$db" "$n"
    starts=() rss=() cpu=() logged=()
    for _ in $(seq "$REPEAT"); do
      start_server "$db"
      starts+=("$STARTUP_MS")
      sleep "$SETTLE"   # past start-up's own work and most of the JIT's second tier
      rss+=("$(rss_mb)")
      before=$(cpu_ms)
      sleep $((12 * INTERVAL))   # twelve rounds: exactly one full reload
      cpu+=($(( $(cpu_ms) - before )))
      line=$(grep -o 'Revocation list reloaded in [0-9.]* ms ([0-9.]* ms process CPU): [0-9]* rows read' "$WORK/server.log" | tail -1 || true)
      logged+=("$(sed -E 's/Revocation list reloaded in ([0-9.]+) ms \(([0-9.]+) ms process CPU\): ([0-9]+) rows read/\1 ms, \2 ms CPU, \3 rows/' <<<"$line")")
      stop_server
    done
    range() { printf '%s\n' "$@" | sort -n | awk 'NR == 1 {lo = $1} {hi = $1} END {print (lo == hi ? lo : lo "–" hi)}'; }
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "${REF:-$(git rev-parse --short HEAD)}" "$db" "$n" \
      "$(range "${starts[@]}")" "$(range "${rss[@]}")" "$(range "${cpu[@]}")" "${logged[*]:-n/a}"
  done
done
