#!/usr/bin/env bash
# A real OAuth client library against a Release build: Authlib (Debian's python3-authlib) gets client-credentials
# tokens with client_secret_basic and client_secret_post, and src/JwtApi.ResourceSample (stock JwtBearer, knowing
# only JwtApi's discovery URL) accepts them for its scope and refuses them for a role.
# usage: tests/interop/client-credentials.sh PUBLISHED_DIR   (the output of dotnet publish src/JwtApi)
set -euo pipefail
out=$(readlink -f "$1")
here=$(dirname "$(readlink -f "$0")")
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_for() { # URL PID LOG
  for _ in $(seq 1 120); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3"; echo "exited at start"; exit 1; }
    sleep 0.5
  done
  cat "$3"; echo "did not answer $1"; exit 1
}
json() { /usr/bin/python3 -c "import sys,json; print(json.load(sys.stdin)$1)"; }

api="http://127.0.0.1:$(free_port)"
dotnet "$out/JwtApi.dll" keys generate --alg ES256 > "$work/es256.pem"
mkdir -p "$work/data"
( cd "$out" && exec env ASPNETCORE_ENVIRONMENT=Production Storage__DataDirectory="$work/data" \
    Jwt__Algorithm=ES256 Jwt__PrivateKeyPath="$work/es256.pem" Jwt__RefreshSigningKey="$(openssl rand -base64 32)" \
    Seed__AdminUsername=interop Seed__AdminPassword=interop-password-1 \
    dotnet JwtApi.dll --urls "$api" >"$work/jwtapi.log" 2>&1 ) &
pids+=($!)
wait_for "$api/health" "${pids[-1]}" "$work/jwtapi.log"

dotnet publish "$root/src/JwtApi.ResourceSample/JwtApi.ResourceSample.csproj" -c Release -o "$work/sample" -nologo -v q >/dev/null
sample="http://127.0.0.1:$(free_port)"
( cd "$work/sample" && exec env ASPNETCORE_ENVIRONMENT=Production \
    JwtApi__MetadataAddress="$api/.well-known/openid-configuration" JwtApi__Audience=jwtapi \
    JwtApi__ServiceAudience=resource-sample JwtApi__RequireHttpsMetadata=false \
    dotnet JwtApi.ResourceSample.dll --urls "$sample" >"$work/sample.log" 2>&1 ) &
pids+=($!)
# no token: 401 once it is up
for _ in $(seq 1 120); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$sample/reports/feed")" = 401 ] && break
  kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/sample.log"; echo "sample exited"; exit 1; }
  sleep 0.5
done

# an admin registers the client through the API, as an operator would
admin=$(curl -fsS -X POST "$api/login" -H 'Content-Type: application/json' \
  -d '{"username":"interop","password":"interop-password-1"}' | json '["access_token"]')
client=$(curl -fsS -X POST "$api/clients" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d '{"name":"report feed","grant_types":["client_credentials"],"scopes":["reports:read"],"audiences":["resource-sample"]}')
/usr/bin/python3 "$here/client_credentials.py" "$api" "$sample" \
  "$(json '["client_id"]' <<<"$client")" "$(json '["client_secret"]' <<<"$client")"
