#!/usr/bin/env bash
# An independent verifier: a Release build of JwtApi issues an RS256 and then an ES256 token, and PyJWT
# (Debian's python3-jwt) verifies each from the published discovery document and JWKS alone.
# usage: tests/interop/jwks-interop.sh PUBLISHED_DIR   (the output of dotnet publish src/JwtApi)
set -euo pipefail
out=$(readlink -f "$1")
here=$(dirname "$(readlink -f "$0")")
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
base="http://127.0.0.1:$port"
refresh=$(openssl rand -base64 32)

for alg in RS256 ES256; do
  # the key comes from the service's own generator
  dotnet "$out/JwtApi.dll" keys generate --alg "$alg" > "$work/$alg.pem"
  mkdir -p "$work/data-$alg"
  ( cd "$out" && exec env ASPNETCORE_ENVIRONMENT=Production \
      Storage__DataDirectory="$work/data-$alg" \
      Jwt__Algorithm="$alg" Jwt__PrivateKeyPath="$work/$alg.pem" Jwt__RefreshSigningKey="$refresh" \
      Seed__AdminUsername=interop Seed__AdminPassword=interop-password-1 \
      dotnet JwtApi.dll --urls "$base" >"$work/server-$alg.log" 2>&1 ) &
  pid=$!
  for _ in $(seq 1 60); do
    curl -fsS -o /dev/null "$base/health" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/server-$alg.log"; echo "server exited"; exit 1; }
    sleep 0.5
  done
  token=$(curl -fsS -X POST "$base/login" -H 'Content-Type: application/json' \
    -d '{"username":"interop","password":"interop-password-1"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')
  /usr/bin/python3 "$here/verify_jwks.py" "$base" "$token" jwtapi
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
