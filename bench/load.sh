#!/usr/bin/env bash
# Load numbers for docs/PERFORMANCE.md: JwtApi against a stock JwtBearer service (bench/StockJwtBearer: the same
# keys, issuer, audience and tokens), in interleaved rounds so that both meet the same machine. Each server runs
# pinned to one core, wrk pinned to the other. Every wrk run is bounded by its duration, every other step by
# `timeout`, and every process this starts is stopped by its PID on exit.
#
#   bash bench/load.sh     # ROUNDS=3 DURATION=10 WARMUP=5 SETTLE=25 CONNS=32 SERVER_CPU=0 CLIENT_CPU=1 MAIN=1 EXTRAS=1 DISTINCT=1000000 GC=1
#
# Both servers run with the JIT setting of the image (JIT, default DOTNET_TC_CallCountingDelayMs=10) and each new
# process is first driven for SETTLE seconds (anonymous, /me with the repeated token, /me with new tokens) before
# anything is measured: on one core the runtime's default tiering delay (100 ms, times 10 on a single CPU, and
# prolonged by every new tier-0 method) kept either service at half speed for 40-50 s of load after start, and
# figures taken in that time measured the JIT's progress, not the service (docs/PERFORMANCE.md, "Tiering").
#
# A round runs both services (the order alternating between rounds), each with HS256 and then RS256: the
# anonymous endpoint (/health/live), GET /me with one token repeated, and with HS256 GET /me with a token never
# seen before on every request (minted with the service's key, one file per round for both). The report gives,
# for each figure and for each ratio paired within a round, the median and the range over the rounds.
# EXTRAS=1 then measures JwtApi alone: the load script's own limit (the every-token-new script over one repeated
# token), /me idle and while /login is saturated (ROUNDS pairs), and memory after DISTINCT distinct tokens. GC=1 then runs JwtApi's /me
# (HS256, repeated token) under each garbage-collector setting of GC_SETTINGS, ROUNDS times in turn.
#
# Needs wrk (installed from Debian's packages if missing), openssl, curl, python3, taskset.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-5}   # seconds of each load before it is measured, so the GC and the caches settle first
SETTLE=${SETTLE:-25}  # seconds of load on each new process before its first measurement, so JIT tiering is done
JIT=${JIT:-DOTNET_TC_CallCountingDelayMs=10}   # runtime settings both servers get (the Dockerfile's)
CONNS=${CONNS:-32}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
MAIN=${MAIN:-1}       # 0: only the figures of JwtApi alone (EXTRAS) and the GC table, no interleaved rounds
EXTRAS=${EXTRAS:-1}
DISTINCT=${DISTINCT:-1000000}
GC=${GC:-1}
# name=VAR=value,VAR=value: the settings compared (the image's are the Dockerfile's ENV lines)
GC_SETTINGS=${GC_SETTINGS:-"server-datas=X=1 server-static=DOTNET_GCDynamicAdaptationMode=0 workstation=DOTNET_gcServer=0 workstation-nonconcurrent=DOTNET_gcServer=0,DOTNET_gcConcurrent=0 server-datas-small-gen0=DOTNET_GCgen0size=0x400000 workstation-conserve=DOTNET_gcServer=0,DOTNET_GCConserveMemory=5"}
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
timeout 600 dotnet publish src/JwtApi/JwtApi.csproj -c Release -o "$WORK/jwtapi" --nologo -v q >&2
timeout 600 dotnet publish bench/StockJwtBearer/StockJwtBearer.csproj -c Release -o "$WORK/stock" --nologo -v q >&2
timeout 600 dotnet build bench/JwtApi.Benchmarks -c Release --nologo -v q >&2
BENCH=$PWD/bench/JwtApi.Benchmarks/bin/Release/net10.0/JwtApi.Benchmarks.dll

export JWT_KEY; JWT_KEY=$(openssl rand -base64 32)
export JWT_PRIVATE_KEY_PATH=$WORK/rsa.pem
REFRESH_KEY=$(openssl rand -base64 32)
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$JWT_PRIVATE_KEY_PATH" 2>/dev/null

# tokens ALGORITHM COUNT FILE: access tokens of the shape JwtApi issues, signed with the servers' key
tokens() { JWT_ALGORITHM=$1 timeout 600 dotnet "$BENCH" mint "$2" "$3"; }
kid_of() { python3 -c 'import base64,json,sys; h=sys.argv[1].split(".")[0]; print(json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["kid"])' "$1"; }

SERVER=
wait_ready() {
  for _ in $(seq 150); do
    curl -sf "$BASE/health/live" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "the server did not start:" >&2; cat "$WORK/server.log" >&2; exit 1
}
# start SERVICE ALGORITHM [VAR=value ...]: JwtApi (Production, SQLite, limits lifted) or the stock service
start() {
  local service=$1 algorithm=$2; shift 2
  if [ "$service" = jwtapi ]; then
    rm -rf "$WORK/data" && mkdir -p "$WORK/data"
    (cd "$WORK/jwtapi" && exec env ASPNETCORE_ENVIRONMENT=Production \
      ConnectionStrings__Users="Data Source=$WORK/data/users.db" \
      Jwt__Algorithm="$algorithm" Jwt__SigningKey="$JWT_KEY" Jwt__PrivateKeyPath="$JWT_PRIVATE_KEY_PATH" \
      Jwt__RefreshSigningKey="$REFRESH_KEY" \
      Seed__AdminUsername=loadadmin Seed__AdminPassword=load-admin-passphrase \
      RateLimits__PerAddress__PermitLimit=1000000000 RateLimits__PerUsername__PermitLimit=1000000000 \
      RateLimits__PerUsernameAndAddress__PermitLimit=1000000000 \
      $JIT "$@" taskset -c "$SERVER_CPU" dotnet JwtApi.dll --urls "$BASE") >"$WORK/server.log" 2>&1 &
  else
    (cd "$WORK/stock" && exec env Jwt__Algorithm="$algorithm" Jwt__SigningKey="$JWT_KEY" \
      Jwt__PrivateKeyPath="$JWT_PRIVATE_KEY_PATH" Jwt__KeyId="$KID" \
      $JIT "$@" taskset -c "$SERVER_CPU" dotnet StockJwtBearer.dll --urls "$BASE") >"$WORK/server.log" 2>&1 &
  fi
  SERVER=$!
  PIDS+=("$SERVER")
  wait_ready
}
# settle: drive a new process until JIT tiering is done, over each path a measurement takes: a third of SETTLE
# anonymous, a third /me repeated, a third /me with new tokens (HS256, from a file of their own, so that none of
# the measured tokens is seen before it is measured)
settle() {
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"$((SETTLE / 3))s" "$BASE/health/live" >/dev/null 2>&1
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"$((SETTLE / 3))s" -H "Authorization: Bearer $TOKEN" "$BASE/me" >/dev/null 2>&1
  [ -n "${SETTLE_TOKENS:-}" ] && TOKENS_FILE=$SETTLE_TOKENS taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"$((SETTLE - 2 * (SETTLE / 3)))s" \
    -s "$WORK/tokens.lua" "$BASE" >/dev/null 2>&1
  return 0
}
stop() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status"; }

# wrk's latency to milliseconds
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'; }

RESULTS=$WORK/results.tsv   # round, figure, value
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }

# measure ROUND NAME [wrk args...]: a warm-up, then one bounded wrk run on the client core; records requests/s,
# p99, the server's peak RSS during the run, and wrk's own CPU share (is the load generator the limit?)
measure() {
  local round=$1 name=$2; shift 2
  local out="$WORK/wrk.txt"
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP}s" "$@" >/dev/null 2>&1
  local peak=0
  ( while kill -0 "$SERVER" 2>/dev/null; do awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status"; sleep 0.5; done ) >"$WORK/rss.txt" 2>/dev/null &
  local sampler=$!
  /usr/bin/time -f "%P" -o "$WORK/wrk-cpu.txt" taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$@" >"$out" 2>&1
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  peak=$(sort -n "$WORK/rss.txt" | tail -1)
  local rps p99 non2xx cpu
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
  cpu=$(tr -d '%' <"$WORK/wrk-cpu.txt")
  [ -z "$non2xx" ] || { echo "$name: $non2xx answers were not 2xx" >&2; exit 1; }
  record "$round" "$name rps" "$rps"
  record "$round" "$name p99" "$p99"
  record "$round" "$name rss" "$((peak / 1024))"
  record "$round" "$name wrk cpu" "$cpu"
  echo "round $round, $name: $rps req/s, p99 $p99 ms, peak RSS $((peak / 1024)) MB, wrk CPU $cpu%" >&2
}

cat >"$WORK/tokens.lua" <<'LUA'
local tokens, i = {}, 0
for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
request = function()
  i = i % #tokens + 1
  return wrk.format("GET", "/me", { ["Authorization"] = "Bearer " .. tokens[i] })
end
LUA
cat >"$WORK/login.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"loadadmin","password":"load-admin-passphrase"}'
LUA

for round in $(seq "$((MAIN == 1 ? ROUNDS : 0))"); do
  order="jwtapi stock"; [ $((round % 2)) = 0 ] && order="stock jwtapi"
  # every request a token never seen before: enough for WARMUP + DURATION seconds at 40,000 requests/s
  tokens HS256 $((40000 * (WARMUP + DURATION))) "$WORK/fresh.txt"
  tokens HS256 $((40000 * (SETTLE - 2 * (SETTLE / 3)))) "$WORK/settle.txt"
  for service in $order; do
    for algorithm in HS256 RS256; do
      tokens "$algorithm" 1 "$WORK/one.txt"
      TOKEN=$(cat "$WORK/one.txt")
      KID=$(kid_of "$TOKEN")
      start "$service" "$algorithm"
      SETTLE_TOKENS=; [ "$algorithm" = HS256 ] && SETTLE_TOKENS=$WORK/settle.txt
      record "$round" "$service $algorithm idle rss" "$(( $(rss_kb) / 1024 ))"
      settle
      measure "$round" "$service $algorithm anonymous" "$BASE/health/live"
      measure "$round" "$service $algorithm /me repeated" -H "Authorization: Bearer $TOKEN" "$BASE/me"
      if [ "$algorithm" = HS256 ]; then
        TOKENS_FILE="$WORK/fresh.txt" measure "$round" "$service HS256 /me every token new" -s "$WORK/tokens.lua" "$BASE"
      fi
      stop
    done
  done
done

if [ "$EXTRAS" = 1 ]; then
  echo "# JwtApi alone: the load script's limit, /me under a /login flood, memory over $DISTINCT distinct tokens" >&2
  tokens HS256 1 "$WORK/one.txt"
  TOKEN=$(cat "$WORK/one.txt")
  start jwtapi HS256
  settle
  # the every-token-new script with one token: what it can drive when the server has nothing new to validate
  TOKENS_FILE="$WORK/one.txt" measure x "jwtapi HS256 /me every-token-new script, one token" -s "$WORK/tokens.lua" "$BASE"
  # idle, then flooded, ROUNDS times: one 10-second p99 can catch a pause of the host, so the goal is judged on the
  # median of the ratios paired within each pair of runs
  for round in $(seq "$ROUNDS"); do
    measure "flood$round" "jwtapi HS256 /me idle" -H "Authorization: Bearer $TOKEN" "$BASE/me"
    taskset -c "$CLIENT_CPU" wrk -t1 -c16 -d$((WARMUP + DURATION + 4))s -s "$WORK/login.lua" "$BASE/login" >"$WORK/wrk-saturate.txt" 2>&1 &
    SATURATE=$!
    PIDS+=("$SATURATE")
    sleep 2
    measure "flood$round" "jwtapi HS256 /me while /login is saturated" -H "Authorization: Bearer $TOKEN" "$BASE/me"
    wait "$SATURATE" || true
    record "flood$round" "logins/s while saturated" "$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk-saturate.txt")"
  done
  stop
  # the same flood against the default password-attempt window (5 per name and address): what each refused
  # attempt (429, counted in the database) costs the requests beside it
  start jwtapi HS256 RateLimits__PerUsernameAndAddress__PermitLimit=5
  settle
  measure x "jwtapi HS256 /me idle, throttle on" -H "Authorization: Bearer $TOKEN" "$BASE/me"
  taskset -c "$CLIENT_CPU" wrk -t1 -c16 -d$((WARMUP + DURATION + 4))s -s "$WORK/login.lua" "$BASE/login" >"$WORK/wrk-refused.txt" 2>&1 &
  SATURATE=$!
  PIDS+=("$SATURATE")
  sleep 2
  measure x "jwtapi HS256 /me while logins are refused" -H "Authorization: Bearer $TOKEN" "$BASE/me"
  wait "$SATURATE" || true
  record x "refused logins/s" "$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk-refused.txt")"
  stop
  start jwtapi HS256
  RSS_START=$(rss_kb)
  taskset -c "$CLIENT_CPU" timeout 900 dotnet "$BENCH" send 10000 "$BASE/me" >&2
  RSS_10K=$(rss_kb)
  taskset -c "$CLIENT_CPU" timeout 1800 dotnet "$BENCH" send $((DISTINCT - 10000)) "$BASE/me" >&2
  RSS_1M=$(rss_kb)
  stop
  record x "rss at start" $((RSS_START / 1024))
  record x "rss after 10000 distinct tokens" $((RSS_10K / 1024))
  record x "rss after $DISTINCT distinct tokens" $((RSS_1M / 1024))
fi

if [ "$GC" = 1 ]; then
  echo "# JwtApi under each GC setting" >&2
  for round in $(seq "$ROUNDS"); do
    for setting in $GC_SETTINGS; do
      name=${setting%%=*}
      IFS=, read -r -a vars <<<"${setting#*=}"
      tokens HS256 1 "$WORK/one.txt"
      TOKEN=$(cat "$WORK/one.txt")
      start jwtapi HS256 "${vars[@]}"
      record "gc$round" "gc $name idle rss" "$(( $(rss_kb) / 1024 ))"
      settle
      measure "gc$round" "gc $name" -H "Authorization: Bearer $TOKEN" "$BASE/me"
      stop
    done
  done
fi

echo
echo "Machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ //'); servers on core $SERVER_CPU, wrk on core $CLIENT_CPU; $ROUNDS rounds, $DURATION s per run after $WARMUP s of warm-up ($SETTLE s more on each new process), $CONNS connections; runtime settings: $JIT."
echo
python3 - "$RESULTS" <<'PY'
import collections, statistics, sys

rows = collections.defaultdict(dict)   # round -> figure -> value
for line in open(sys.argv[1]):
    rnd, figure, value = line.rstrip("\n").split("\t")
    rows[rnd][figure] = float(value)
rounds = sorted(r for r in rows if r != "x" and not r.startswith(("gc", "flood")))

def summary(values, digits):
    if not values:
        return "n/a"
    m = statistics.median(values)
    return f"{m:,.{digits}f} ({min(values):,.{digits}f}–{max(values):,.{digits}f})"

if rounds:
    print("| Figure | JwtApi | stock JwtBearer |")
    print("|---|---:|---:|")
    for alg in ("HS256", "RS256"):
        for load in ("anonymous", "/me repeated") + (("/me every token new",) if alg == "HS256" else ()):
            for unit, digits in (("rps", 0), ("p99", 2), ("rss", 0)):
                label = {"rps": "requests/s", "p99": "p99 ms", "rss": "peak RSS MB"}[unit]
                cells = [summary([rows[r][f"{s} {alg} {load} {unit}"] for r in rounds if f"{s} {alg} {load} {unit}" in rows[r]], digits)
                         for s in ("jwtapi", "stock")]
                print(f"| {alg} {load}, {label} | {cells[0]} | {cells[1]} |")
        cells = [summary([rows[r][f"{s} {alg} idle rss"] for r in rounds], 0) for s in ("jwtapi", "stock")]
        print(f"| {alg} RSS at idle after start, MB | {cells[0]} | {cells[1]} |")
    wrk = [v for r in rounds for k, v in rows[r].items() if k.endswith("wrk cpu")]
    print(f"| wrk's CPU share of its core, every run | {summary(wrk, 0)} % | |")

    def ratio(a, b):
        return [rows[r][a] / rows[r][b] for r in rounds if a in rows[r] and rows[r].get(b)]

    print()
    print("| Ratio, paired within each round | Median (range) | Goal | Met |")
    print("|---|---:|---|---|")
    goals = [
        ("HS256 /me repeated: JwtApi ÷ stock", "jwtapi HS256 /me repeated rps", "stock HS256 /me repeated rps", ">=", 1.3),
        ("RS256 /me repeated: JwtApi ÷ stock", "jwtapi RS256 /me repeated rps", "stock RS256 /me repeated rps", ">=", 2.2),
        ("HS256 JwtApi /me repeated ÷ its anonymous", "jwtapi HS256 /me repeated rps", "jwtapi HS256 anonymous rps", ">=", 0.9),
        ("RS256 JwtApi /me repeated ÷ its anonymous", "jwtapi RS256 /me repeated rps", "jwtapi RS256 anonymous rps", ">=", 0.9),
        ("HS256 /me every token new: JwtApi ÷ stock", "jwtapi HS256 /me every token new rps", "stock HS256 /me every token new rps", ">=", 1.0),
        ("HS256 JwtApi /me every token new ÷ its anonymous", "jwtapi HS256 /me every token new rps", "jwtapi HS256 anonymous rps", ">=", 0.75),
        ("HS256 anonymous: JwtApi ÷ stock", "jwtapi HS256 anonymous rps", "stock HS256 anonymous rps", None, None),
        ("RS256 anonymous: JwtApi ÷ stock", "jwtapi RS256 anonymous rps", "stock RS256 anonymous rps", None, None),
        ("HS256 peak RSS under /me load: JwtApi ÷ stock", "jwtapi HS256 /me repeated rss", "stock HS256 /me repeated rss", "<=", 1.25),
    ]
    for label, a, b, op, goal in goals:
        values = ratio(a, b)
        m = statistics.median(values) if values else None
        met = "" if goal is None or m is None else ("yes" if (m >= goal if op == ">=" else m <= goal) else "no")
        print(f"| {label} | {summary(values, 2)} | {'' if goal is None else op.replace('>=', '≥ ').replace('<=', '≤ ') + str(goal)} | {met} |")

gc_rounds = sorted(r for r in rows if r.startswith("gc"))
if gc_rounds:
    names = [k[3:-9] for k in rows[gc_rounds[0]] if k.startswith("gc ") and k.endswith(" idle rss")]
    print()
    print("| JwtApi HS256 /me repeated, by GC setting | requests/s | peak RSS MB | RSS at idle MB |")
    print("|---|---:|---:|---:|")
    for name in names:
        cells = [summary([rows[r][f"gc {name} {unit}"] for r in gc_rounds if f"gc {name} {unit}" in rows[r]], 0) for unit in ("rps", "rss", "idle rss")]
        print(f"| {name} | {cells[0]} | {cells[1]} | {cells[2]} |")

x = rows.get("x", {})
if x:
    print()
    print("| JwtApi alone (HS256) | Value | Goal |")
    print("|---|---:|---|")
    script = x.get("jwtapi HS256 /me every-token-new script, one token rps")
    print(f"| every-token-new script over one repeated token, requests/s (the script's limit) | {script:,.0f} | |")
    floods = [rows[r] for r in sorted(rows) if r.startswith("flood")]
    pairs = [(f["jwtapi HS256 /me while /login is saturated p99"], f["jwtapi HS256 /me idle p99"]) for f in floods]
    print(f"| /me p99 with /login saturated (BCrypt busy, {summary([f['logins/s while saturated'] for f in floods], 0)} logins/s) ÷ idle p99, "
          f"paired in {len(pairs)} runs | {summary([b / i for b, i in pairs], 2)} ({summary([b for b, _ in pairs], 2)} ms ÷ {summary([i for _, i in pairs], 2)} ms) | ≤ 3 |")
    idle, busy = x.get("jwtapi HS256 /me idle, throttle on p99"), x.get("jwtapi HS256 /me while logins are refused p99")
    if idle and busy:
        rps_idle, rps_busy = x["jwtapi HS256 /me idle, throttle on rps"], x["jwtapi HS256 /me while logins are refused rps"]
        print(f"| /me p99 while {x.get('refused logins/s', 0):,.0f} logins/s are refused (429) ÷ idle p99 | {busy / idle:.2f} ({busy:.2f} ms ÷ {idle:.2f} ms; {rps_busy:,.0f} against {rps_idle:,.0f} requests/s) | |")
    start = x["rss at start"]; k10 = x["rss after 10000 distinct tokens"]
    last = [k for k in x if k.startswith("rss after") and k != "rss after 10000 distinct tokens"][0]
    print(f"| RSS {last[4:]} ÷ after 10,000 | {x[last] / k10:.2f} ({start:.0f} MB at start, {k10:.0f} MB, {x[last]:.0f} MB) | ≤ 1.10 |")
PY
