#!/usr/bin/env python3
"""A real OAuth client library (Authlib, Debian's python3-authlib) gets client-credentials tokens from JwtApi with
each client authentication method, and the resource sample accepts them for its scope and refuses them for a role.
usage: client_credentials.py JWTAPI_BASE SAMPLE_BASE CLIENT_ID CLIENT_SECRET"""
import sys
import requests
from authlib.integrations.requests_client import OAuth2Session

jwtapi, sample, client_id, client_secret = sys.argv[1:5]
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


for method in ("client_secret_basic", "client_secret_post"):
    session = OAuth2Session(client_id, client_secret, token_endpoint_auth_method=method, scope="reports:read")
    token = session.fetch_token(f"{jwtapi}/token", grant_type="client_credentials", resource="resource-sample")
    check(f"{method}: a bearer token with the scope asked for",
          token.get("token_type") == "Bearer" and token.get("scope") == "reports:read" and "refresh_token" not in token, token)
    feed = session.get(f"{sample}/reports/feed")
    check(f"{method}: the resource sample accepts it for its scope", feed.status_code == 200, feed.status_code)
    reports = session.get(f"{sample}/reports")
    check(f"{method}: the resource sample refuses it for a role", reports.status_code == 403, reports.status_code)

wrong = OAuth2Session(client_id, "not-the-secret", token_endpoint_auth_method="client_secret_basic")
try:
    wrong.fetch_token(f"{jwtapi}/token", grant_type="client_credentials")
    check("a wrong secret is refused", False, "a token was issued")
except Exception as error:  # Authlib raises OAuthError for the RFC 6749 error body
    check("a wrong secret is refused (invalid_client)", "invalid_client" in str(error), error)

print(f"client credentials interop: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
