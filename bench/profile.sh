#!/usr/bin/env bash
# Where a request's time goes (docs/PERFORMANCE.md, "Profile"): a Release build of JwtApi (or the stock baseline)
# pinned to one core under a wrk load pinned to the other, sampled by dotnet-trace (a local tool of this
# repository: `dotnet tool restore`) for DURATION seconds, and the top frames of its busy time (bench/profile.py).
#
#   bash bench/profile.sh [repeated|new|anonymous] [jwtapi|stock]     # DURATION=10 ALGORITHM=HS256 TOP=30 SETTLE=25
#
# As in bench/load.sh, the server runs with the image's JIT setting (JIT=) and is driven for SETTLE seconds first,
# so the trace shows tier-1 code, not the JIT's progress (docs/PERFORMANCE.md, "Tiering on one core").
#
# Every process this starts is stopped by its PID on exit; every step is bounded by its duration or `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."

LOAD=${1:-repeated}
SERVICE=${2:-jwtapi}
DURATION=${DURATION:-10}
ALGORITHM=${ALGORITHM:-HS256}
TOP=${TOP:-30}
SETTLE=${SETTLE:-25}
JIT=${JIT:-DOTNET_TC_CallCountingDelayMs=10}
PORT=${PORT:-5099}
BASE=http://127.0.0.1:$PORT
OUT=${OUT:-artifacts/profile}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
timeout 300 dotnet tool restore >/dev/null

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

timeout 600 dotnet publish src/JwtApi/JwtApi.csproj -c Release -o "$WORK/jwtapi" --nologo -v q >&2
timeout 600 dotnet publish bench/StockJwtBearer/StockJwtBearer.csproj -c Release -o "$WORK/stock" --nologo -v q >&2
timeout 600 dotnet build bench/JwtApi.Benchmarks -c Release --nologo -v q >&2
BENCH=$PWD/bench/JwtApi.Benchmarks/bin/Release/net10.0/JwtApi.Benchmarks.dll
export JWT_KEY; JWT_KEY=$(openssl rand -base64 32)
export JWT_PRIVATE_KEY_PATH=$WORK/rsa.pem JWT_ALGORITHM=$ALGORITHM
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$JWT_PRIVATE_KEY_PATH" 2>/dev/null
timeout 600 dotnet "$BENCH" mint 1 "$WORK/one.txt"
TOKEN=$(cat "$WORK/one.txt")
KID=$(python3 -c 'import base64,json,sys; h=sys.argv[1].split(".")[0]; print(json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["kid"])' "$TOKEN")

if [ "$SERVICE" = jwtapi ]; then
  mkdir -p "$WORK/data"
  (cd "$WORK/jwtapi" && exec env ASPNETCORE_ENVIRONMENT=Production ConnectionStrings__Users="Data Source=$WORK/data/users.db" \
    Jwt__Algorithm="$ALGORITHM" Jwt__SigningKey="$JWT_KEY" Jwt__PrivateKeyPath="$JWT_PRIVATE_KEY_PATH" \
    Jwt__RefreshSigningKey="$(openssl rand -base64 32)" \
    $JIT taskset -c 0 dotnet JwtApi.dll --urls "$BASE") >"$WORK/server.log" 2>&1 &
else
  (cd "$WORK/stock" && exec env Jwt__Algorithm="$ALGORITHM" Jwt__SigningKey="$JWT_KEY" Jwt__PrivateKeyPath="$JWT_PRIVATE_KEY_PATH" \
    Jwt__KeyId="$KID" $JIT taskset -c 0 dotnet StockJwtBearer.dll --urls "$BASE") >"$WORK/server.log" 2>&1 &
fi
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 150); do curl -sf "$BASE/health/live" >/dev/null 2>&1 && break; sleep 0.2; done

cat >"$WORK/tokens.lua" <<'LUA'
local tokens, i = {}, 0
for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
request = function()
  i = i % #tokens + 1
  return wrk.format("GET", "/me", { ["Authorization"] = "Bearer " .. tokens[i] })
end
LUA
case $LOAD in
  repeated) ARGS=(-H "Authorization: Bearer $TOKEN" "$BASE/me") ;;
  anonymous) ARGS=("$BASE/health/live") ;;
  new) timeout 600 dotnet "$BENCH" mint $((40000 * (DURATION + 10))) "$WORK/fresh.txt"; export TOKENS_FILE=$WORK/fresh.txt; ARGS=(-s "$WORK/tokens.lua" "$BASE") ;;
  *) echo "usage: profile.sh [repeated|new|anonymous] [jwtapi|stock]" >&2; exit 2 ;;
esac

# tiering done (anonymous, then /me repeated), a warm-up of this load, then the load for the trace's duration and a little more
taskset -c 1 wrk -t1 -c32 -d"$((SETTLE / 3))s" "$BASE/health/live" >/dev/null
taskset -c 1 wrk -t1 -c32 -d"$((SETTLE - SETTLE / 3))s" -H "Authorization: Bearer $TOKEN" "$BASE/me" >/dev/null
taskset -c 1 wrk -t1 -c32 -d5s "${ARGS[@]}" >/dev/null
taskset -c 1 wrk -t1 -c32 -d$((DURATION + 3))s "${ARGS[@]}" >"$WORK/wrk.txt" &
PIDS+=("$!")
sleep 1
mkdir -p "$OUT"
name="$SERVICE-$ALGORITHM-$LOAD"
timeout $((DURATION + 120)) dotnet dotnet-trace collect -p "$SERVER" --profile dotnet-sampled-thread-time \
  --duration "00:00:00:$(printf %02d "$DURATION")" -o "$OUT/$name.nettrace" >/dev/null
wait "${PIDS[-1]}" || true
timeout 300 dotnet dotnet-trace convert "$OUT/$name.nettrace" --format Speedscope -o "$OUT/$name" >/dev/null
echo "# $name: $(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.txt") requests/s under the trace"
python3 bench/profile.py "$OUT/$name.speedscope.json" "$TOP"
