#!/usr/bin/env python3
"""Verifies a JwtApi access token with PyJWT from the service's published metadata alone.

usage: verify_jwks.py BASE_URL TOKEN AUDIENCE
Fetches BASE_URL/.well-known/openid-configuration, then its jwks_uri; picks the key by the token's kid;
checks the signature (RS256 or ES256 only), iss, aud and exp; and checks that a tampered copy fails.
Exits 0 and prints "ok <alg> <kid>" when all hold.
"""
import json
import sys
import urllib.request

import jwt


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def main(base, token, audience):
    discovery = get(base + "/.well-known/openid-configuration")
    jwks = get(discovery["jwks_uri"])
    for key in jwks["keys"]:
        secret = {"d", "p", "q", "dp", "dq", "qi", "k"} & set(key)
        if secret:
            return "private or secret material published: %s" % sorted(secret)
    header = jwt.get_unverified_header(token)
    matches = [k for k in jwks["keys"] if k.get("kid") == header.get("kid")]
    if len(matches) != 1:
        return "kid %r not in the JWKS" % header.get("kid")
    key = jwt.PyJWK(matches[0]).key
    claims = jwt.decode(token, key=key, algorithms=["RS256", "ES256"], audience=audience,
                        issuer=discovery["issuer"], options={"require": ["exp", "iat", "sub", "jti"]})
    if header.get("typ") != "at+jwt":
        return "typ is %r" % header.get("typ")
    head, payload, signature = token.split(".")
    forged = dict(claims, role=["admin", "user"], name="mallory")
    forged_payload = jwt.utils.base64url_encode(json.dumps(forged).encode()).decode()
    try:
        jwt.decode(head + "." + forged_payload + "." + signature, key=key, algorithms=["RS256", "ES256"],
                   audience=audience, issuer=discovery["issuer"])
        return "a tampered token verified"
    except jwt.InvalidSignatureError:
        pass
    return "ok %s %s" % (header["alg"], header["kid"])


if __name__ == "__main__":
    result = main(*sys.argv[1:4])
    print(result)
    sys.exit(0 if result.startswith("ok ") else 1)
