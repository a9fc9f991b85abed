#!/usr/bin/env bash
# How long a logout on one instance takes to reach another, for docs/PERFORMANCE.md ("Revocations across
# instances"): a Release build, a private PostgreSQL (tests/postgres/start.sh), two instances on 127.0.0.1 sharing
# one database. ROUNDS times: log in on A, check the token works on B, wait a random 0 to PAUSE seconds (so the
# logouts fall anywhere in B's sync interval, not in step with it), log out on A, then ask B every ~10 ms until it
# answers 401; the time from A's answer to the logout to B's first 401 is one sample (to within those 10 ms). Run once with
# Jwt:RevocationNotifications on (the default) and once off (the periodic sync alone), both at the default
# Jwt:RevocationSyncInterval of 5 s. Every step is bounded by `timeout`, every loop by a count, and every process
# this starts is stopped by its PID on exit.
#
#   bash bench/revocation-latency.sh     # ROUNDS=100 MODES="on off" PAUSE=5
#
# Needs the PostgreSQL server binaries (Debian: postgresql), openssl, curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-100}
PAUSE=${PAUSE:-5}   # seconds: the sync interval, so a logout lands anywhere in it
MODES=${MODES:-on off}
PORT_A=${PORT_A:-5101}
PORT_B=${PORT_B:-5102}
pgbin=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

WORK=$(mktemp -d)
PIDS=()
PG_DIR=
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$PG_DIR" ]; then bash tests/postgres/stop.sh "$PG_DIR"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "# building (Release)" >&2
timeout 600 dotnet publish src/JwtApi/JwtApi.csproj -c Release -o "$WORK/out" --nologo -v q >&2

echo "# starting PostgreSQL" >&2
eval "$(timeout 120 bash tests/postgres/start.sh)"
PG_DIR=$JWTAPI_TEST_POSTGRES_DIR

JWT_KEY=$(openssl rand -base64 32)
REFRESH_KEY=$(openssl rand -base64 32)

# start_instance PORT DATABASE NOTIFICATIONS: a Production start, as bench/load.sh's, on PostgreSQL
start_instance() {
  local port=$1 database=$2 notifications=$3
  mkdir -p "$WORK/data-$port"
  (cd "$WORK/out" && exec env ASPNETCORE_ENVIRONMENT=Production \
    Database__Provider=Postgres ConnectionStrings__Users="${JWTAPI_TEST_POSTGRES/Database=postgres/Database=$database}" \
    Storage__DataDirectory="$WORK/data-$port" \
    Jwt__SigningKey="$JWT_KEY" Jwt__RefreshSigningKey="$REFRESH_KEY" \
    Jwt__RevocationNotifications="$notifications" \
    Seed__AdminUsername=benchadmin Seed__AdminPassword=bench-admin-passphrase \
    RateLimits__PerAddress__PermitLimit=1000000000 RateLimits__PerUsername__PermitLimit=1000000000 \
    RateLimits__PerUsernameAndAddress__PermitLimit=1000000000 \
    timeout 3600 dotnet JwtApi.dll --urls "http://127.0.0.1:$port") >"$WORK/server-$port.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 150); do
    curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "the instance on port $port did not start:" >&2; tail -40 "$WORK/server-$port.log" >&2; exit 1
}

stop_instances() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}

cat >"$WORK/driver.py" <<'PY'
import json, random, sys, time, urllib.request, urllib.error

a, b, rounds, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
rng = random.Random(16)
LIMIT = 30.0  # seconds: a round that takes longer is a failure, not a sample

def call(method, url, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

def one_round():
    status, body = call("POST", a + "/login", body={"username": "benchadmin", "password": "bench-admin-passphrase"})
    assert status == 200, (status, body)
    token = json.loads(body)["access_token"]
    status, _ = call("GET", b + "/me", token)
    assert status == 200, status
    time.sleep(rng.uniform(0, pause))
    status, body = call("POST", a + "/logout", token)
    assert status == 204, (status, body)
    start = time.monotonic()
    while time.monotonic() - start < LIMIT:
        status, _ = call("GET", b + "/me", token)
        if status == 401:
            return (time.monotonic() - start) * 1000
        assert status == 200, status
        time.sleep(0.01)
    raise SystemExit(f"B still accepted the token {LIMIT} s after the logout")

for _ in range(3):  # warm-up, not recorded
    one_round()
samples = sorted(one_round() for _ in range(rounds))

def pct(p):  # nearest rank
    return samples[max(0, min(len(samples) - 1, -(-p * len(samples) // 100) - 1))]

print(f"n={len(samples)} p50={pct(50):.0f} ms p90={pct(90):.0f} ms p99={pct(99):.0f} ms max={samples[-1]:.0f} ms")
PY

for mode in $MODES; do
  case $mode in on) notifications=true ;; off) notifications=false ;; *) echo "MODES: on, off" >&2; exit 1 ;; esac
  database=jwtapi_$mode
  timeout 60 "$pgbin/psql" "host=127.0.0.1 port=$(sed -n 's/.*Port=\([0-9]*\).*/\1/p' <<<"$JWTAPI_TEST_POSTGRES") user=postgres dbname=postgres" \
    -qc "create database $database" >/dev/null
  echo "# notifications $mode: two instances, $ROUNDS logouts" >&2
  start_instance "$PORT_A" "$database" "$notifications"
  start_instance "$PORT_B" "$database" "$notifications"
  result=$(timeout $((ROUNDS * (40 + PAUSE) + 120)) python3 "$WORK/driver.py" "http://127.0.0.1:$PORT_A" "http://127.0.0.1:$PORT_B" "$ROUNDS" "$PAUSE")
  echo "notifications $mode (Jwt:RevocationSyncInterval 5 s): $result"
  stop_instances
done
