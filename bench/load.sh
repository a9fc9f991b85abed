#!/usr/bin/env bash
# Load numbers for docs/PERFORMANCE.md, in one run: a Release build of JwtApi on loopback, pinned to one core,
# driven by wrk pinned to another. Every wrk run is bounded by its duration, every other step by `timeout`, and
# every process this starts is stopped by its PID on exit.
#
#   bash bench/load.sh     # DURATION=10 WARMUP=10 CONNS=32 SERVER_CPU=0 CLIENT_CPU=1 DISTINCT=1000000
#
# Needs wrk (installed from Debian's packages if missing), openssl, curl, python3, taskset.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-10}   # seconds of load before each measured server, so JIT tiering and the GC settle first
CONNS=${CONNS:-32}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
DISTINCT=${DISTINCT:-1000000}
PORT=${PORT:-5099}
BASE=http://127.0.0.1:$PORT

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "# building (Release)" >&2
timeout 600 dotnet publish src/JwtApi/JwtApi.csproj -c Release -o "$WORK/out" --nologo -v q >&2
timeout 600 dotnet build bench/JwtApi.Benchmarks -c Release --nologo -v q >&2
BENCH=$PWD/bench/JwtApi.Benchmarks/bin/Release/net10.0/JwtApi.Benchmarks.dll

export JWT_KEY; JWT_KEY=$(openssl rand -base64 32)
REFRESH_KEY=$(openssl rand -base64 32)
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/rsa.pem" 2>/dev/null

SERVER=
# start_server ALGORITHM [extra VAR=value ...]
start_server() {
  local algorithm=$1; shift
  rm -rf "$WORK/data" && mkdir -p "$WORK/data"
  (cd "$WORK/out" && exec env ASPNETCORE_ENVIRONMENT=Production \
    ConnectionStrings__Users="Data Source=$WORK/data/users.db" \
    Jwt__Algorithm="$algorithm" Jwt__SigningKey="$JWT_KEY" Jwt__PrivateKeyPath="$WORK/rsa.pem" \
    Jwt__RefreshSigningKey="$REFRESH_KEY" \
    Seed__AdminUsername=loadadmin Seed__AdminPassword=load-admin-passphrase \
    RateLimits__PerAddress__PermitLimit=1000000000 RateLimits__PerUsername__PermitLimit=1000000000 \
    "$@" taskset -c "$SERVER_CPU" dotnet JwtApi.dll --urls "$BASE") >"$WORK/server.log" 2>&1 &
  SERVER=$!
  PIDS+=("$SERVER")
  for _ in $(seq 150); do
    curl -sf "$BASE/health" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "the server did not start:" >&2; cat "$WORK/server.log" >&2; exit 1
}

stop_server() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status"; }

login_token() {
  curl -sf -X POST "$BASE/login" -H 'Content-Type: application/json' \
    -d '{"username":"loadadmin","password":"load-admin-passphrase"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# wrk's latency to milliseconds
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'; }

RESULTS=()
# measure NAME [wrk args...]: one bounded wrk run on the client core; records requests/s, p50, p99
measure() {
  local name=$1; shift
  local out="$WORK/wrk-${name//[^A-Za-z0-9]/-}.txt"
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$@" >"$out" 2>&1
  local rps p50 p99 non2xx
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
  RESULTS+=("| $name | $rps | $p50 | $p99 | ${non2xx:-0} |")
  echo "$name: $rps req/s, p50 $p50 ms, p99 $p99 ms, non-2xx ${non2xx:-0}" >&2
}
rps_of() { for row in "${RESULTS[@]}"; do [[ $row == "| $1 |"* ]] && echo "$row" | awk -F'|' '{print $3+0}'; done; }
p99_of() { for row in "${RESULTS[@]}"; do [[ $row == "| $1 |"* ]] && echo "$row" | awk -F'|' '{print $5+0}'; done; }

cat >"$WORK/login.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"loadadmin","password":"load-admin-passphrase"}'
LUA
cat >"$WORK/tokens.lua" <<'LUA'
local tokens, i = {}, 0
for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
request = function()
  i = i % #tokens + 1
  return wrk.format("GET", "/me", { ["Authorization"] = "Bearer " .. tokens[i] })
end
LUA

for algorithm in HS256 RS256; do
  echo "# $algorithm" >&2
  start_server "$algorithm"
  TOKEN=$(login_token)
  DURATION=$WARMUP measure "warm-up" "$BASE/health/live" >/dev/null
  DURATION=$WARMUP measure "warm-up" -H "Authorization: Bearer $TOKEN" "$BASE/me" >/dev/null
  measure "$algorithm anonymous GET /health/live" "$BASE/health/live"
  measure "$algorithm GET /me, one token repeated" -H "Authorization: Bearer $TOKEN" "$BASE/me"
  if [ "$algorithm" = HS256 ]; then
    # every request a token the server has not seen: enough for DURATION seconds at 40,000 requests/s
    timeout 600 dotnet "$BENCH" mint $((40000 * DURATION)) "$WORK/tokens.txt"
    TOKENS_FILE="$WORK/tokens.txt" measure "HS256 GET /me, every token new" -s "$WORK/tokens.lua" "$BASE"
    CONNS=8 measure "POST /login (BCrypt cost 11)" -s "$WORK/login.lua" "$BASE/login"
    # /me while /login is saturated: a login load on the client core for the whole /me run
    taskset -c "$CLIENT_CPU" wrk -t1 -c16 -d$((DURATION + 4))s -s "$WORK/login.lua" "$BASE/login" >"$WORK/wrk-saturate.txt" 2>&1 &
    SATURATE=$!
    PIDS+=("$SATURATE")
    sleep 2
    measure "HS256 GET /me while /login is saturated" -H "Authorization: Bearer $TOKEN" "$BASE/me"
    wait "$SATURATE" || true
  fi
  stop_server
done

echo "# HS256 with the validated-token cache off" >&2
start_server HS256 Jwt__ValidationCache__Size=0
TOKEN=$(login_token)
DURATION=$WARMUP measure "warm-up" -H "Authorization: Bearer $TOKEN" "$BASE/me" >/dev/null
measure "HS256 GET /me, one token repeated, cache off" -H "Authorization: Bearer $TOKEN" "$BASE/me"
TOKENS_FILE="$WORK/tokens.txt" measure "HS256 GET /me, every token new, cache off" -s "$WORK/tokens.lua" "$BASE"
stop_server

echo "# RSS over $DISTINCT distinct tokens (HS256, a fresh server)" >&2
start_server HS256
TOKEN=$(login_token)
DURATION=$WARMUP measure "warm-up" -H "Authorization: Bearer $TOKEN" "$BASE/me" >/dev/null
RSS_START=$(rss_kb)
taskset -c "$CLIENT_CPU" timeout 900 dotnet "$BENCH" send 10000 "$BASE/me" >&2
RSS_10K=$(rss_kb)
taskset -c "$CLIENT_CPU" timeout 1800 dotnet "$BENCH" send $((DISTINCT - 10000)) "$BASE/me" >&2
RSS_1M=$(rss_kb)
stop_server

echo
echo "Machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ //'); server on core $SERVER_CPU, wrk on core $CLIENT_CPU; $DURATION s per run, $CONNS connections."
echo
echo "| Run | Requests/s | p50 ms | p99 ms | non-2xx |"
echo "|---|---:|---:|---:|---:|"
for row in "${RESULTS[@]}"; do [[ $row == "| warm-up"* ]] || echo "$row"; done
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "| Ratio | Value | Target |"
echo "|---|---:|---|"
echo "| HS256 /me (repeated token) ÷ anonymous | $(ratio "$(rps_of 'HS256 GET /me, one token repeated')" "$(rps_of 'HS256 anonymous GET /health/live')") | ≥ 0.90 |"
echo "| RS256 /me (repeated token) ÷ anonymous | $(ratio "$(rps_of 'RS256 GET /me, one token repeated')" "$(rps_of 'RS256 anonymous GET /health/live')") | ≥ 0.90 |"
echo "| HS256 /me (every token new) ÷ anonymous | $(ratio "$(rps_of 'HS256 GET /me, every token new')" "$(rps_of 'HS256 anonymous GET /health/live')") | ≥ 0.75 |"
echo "| /me p99 with /login saturated ÷ idle p99 | $(ratio "$(p99_of 'HS256 GET /me while /login is saturated')" "$(p99_of 'HS256 GET /me, one token repeated')") | ≤ 3 |"
echo "| RSS after $DISTINCT distinct tokens ÷ after 10,000 | $(ratio "$RSS_1M" "$RSS_10K") ($((RSS_START / 1024)) MB at start, $((RSS_10K / 1024)) MB, $((RSS_1M / 1024)) MB) | ≤ 1.10 |"
