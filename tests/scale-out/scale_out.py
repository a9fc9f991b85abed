#!/usr/bin/env python3
"""Several instances, one database: two JwtApi processes on loopback ports share one PostgreSQL behind nginx
round-robin, configured as docker-compose.yml configures them (deploy/nginx/nginx.conf with only the addresses
changed). Checks that both answer and accept each other's tokens, refreshes cross over, a logout and a log out
everywhere reach the other instance within the sync interval, the signing key rotates on both with rolling
restarts and no failed request, and readiness follows the database.

usage: scale_out.py PUBLISHED_DIR CONNECTION_STRING PG_CTL PG_DATA
  (run by tests/scale-out/run.sh, which starts a private PostgreSQL; stdlib only, Debian's python3)
  PG_CTL and PG_DATA stop the database at the end, to see readiness follow it.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SYNC_INTERVAL = 2  # seconds: Jwt:RevocationSyncInterval for both instances
ADMIN = ("root", "Adm1n-Passw0rd!scale")

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}" + (f" ({detail})" if detail else ""), flush=True)
    else:
        failed += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""), flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(base, method, path, token=None, body=None, timeout=10):
    """-> (status, json body or None, headers)"""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw, status, headers = r.read(), r.status, r.headers
    except urllib.error.HTTPError as e:
        raw, status, headers = e.read(), e.code, e.headers
    except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
        return 0, {"error": str(e)}, {}
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, parsed, headers


def totp(secret, steps_from_now=0):
    """RFC 6238 (SHA-1, 6 digits, 30 s), as an authenticator app computes it."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, (int(time.time()) // 30 + steps_from_now).to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(int.from_bytes(mac[offset:offset + 4], 'big') & 0x7FFFFFFF) % 1_000_000:06d}"


def kid_of(token):
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


class Instance:
    def __init__(self, name, published, env, work):
        self.name, self.published, self.env, self.work = name, published, env, work
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, keys):
        env = dict(os.environ, **self.env)
        for i, (kid, secret, active) in enumerate(keys):
            env[f"Jwt__SigningKeys__{i}__KeyId"] = kid
            env[f"Jwt__SigningKeys__{i}__Algorithm"] = "HS256"
            env[f"Jwt__SigningKeys__{i}__Secret"] = secret
            env[f"Jwt__SigningKeys__{i}__Active"] = "true" if active else "false"
        log = open(os.path.join(self.work, f"{self.name}.log"), "ab")
        self.process = subprocess.Popen(["dotnet", "JwtApi.dll", "--urls", self.base], cwd=self.published,
                                        env=env, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, seconds=90):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if request(self.base, "GET", "/health/ready", timeout=2)[0] == 200:
                return True
            time.sleep(0.2)
        return False

    def stop(self):
        """SIGTERM, as a container stop or a rolling deployment does: Kestrel drains and exits."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines=30):
        with open(os.path.join(self.work, f"{self.name}.log"), errors="replace") as f:
            return "".join(f.readlines()[-lines:])


def nginx_config(work, upstreams, listen_port):
    """deploy/nginx/nginx.conf, with loopback addresses for the compose service names and files kept in work."""
    conf = open(os.path.join(ROOT, "deploy/nginx/nginx.conf")).read()
    for i, instance in enumerate(upstreams, start=1):
        conf, n = re.subn(rf"\bapi-{i}:8080\b", f"127.0.0.1:{instance.port}", conf)
        assert n == 1, f"deploy/nginx/nginx.conf has no upstream api-{i}:8080"
    conf, n = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen_port};\n        add_header X-Upstream $upstream_addr always;", conf)
    assert n == 1
    conf = conf.replace("/etc/nginx/jwtapi-proxy.conf", os.path.join(ROOT, "deploy/nginx/jwtapi-proxy.conf"))
    conf = conf.replace("access_log /dev/stdout;", f"access_log {work}/nginx-access.log;\n"
                        + "".join(f"    {t}_temp_path {work}/nginx-{t};\n" for t in
                                  ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")))
    conf = f"pid {work}/nginx.pid;\nerror_log {work}/nginx-error.log;\n" + conf
    path = os.path.join(work, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


class Load(threading.Thread):
    """Requests through the balancer while instances restart: /me with an old and with the newest token, and a
    login every few rounds (its token joins the set). Bounded in count and time."""

    def __init__(self, base, username, password, first_token, seconds=240, max_requests=50_000):
        super().__init__(daemon=True)
        self.base, self.username, self.password = base, username, password
        self.tokens = [first_token]
        self.deadline = time.monotonic() + seconds
        self.max_requests = max_requests
        self.stopping = threading.Event()
        self.results = []  # (what, status, upstream)
        self.lock = threading.Lock()

    def record(self, what, status, headers):
        with self.lock:
            self.results.append((what, status, headers.get("X-Upstream", "") if headers else ""))

    def run(self):
        n = 0
        while not self.stopping.is_set() and time.monotonic() < self.deadline and len(self.results) < self.max_requests:
            n += 1
            for token in (self.tokens[0], self.tokens[-1]):
                status, _, headers = request(self.base, "GET", "/me", token)
                self.record("GET /me", status, headers)
            if n % 10 == 0:
                status, body, headers = request(self.base, "POST", "/login", None,
                                                {"username": self.username, "password": self.password})
                self.record("POST /login", status, headers)
                if status == 200:
                    self.tokens.append(body["access_token"])

    def seen_since(self, index, port):
        with self.lock:
            return any(s == 200 and u.endswith(f":{port}") for _, s, u in self.results[index:])


def main():
    published, conn, pg_ctl, pg_data = sys.argv[1:5]
    work = tempfile.mkdtemp(prefix="jwtapi-scale-out-")
    os.chmod(work, 0o755)  # nginx's workers write their temp files here
    k1 = ("k1", base64.b64encode(secrets.token_bytes(32)).decode(), True)
    k2 = ("k2", base64.b64encode(secrets.token_bytes(32)).decode(), False)
    env = {
        "ASPNETCORE_ENVIRONMENT": "Production",
        "Database__Provider": "Postgres",
        "ConnectionStrings__Users": conn,
        "Jwt__RefreshSigningKey": base64.b64encode(secrets.token_bytes(32)).decode(),
        "DataProtection__KeyRingKey": base64.b64encode(secrets.token_bytes(32)).decode(),
        "Jwt__RevocationSyncInterval": f"00:00:0{SYNC_INTERVAL}",
        "Seed__AdminUsername": ADMIN[0],
        "Seed__AdminPassword": ADMIN[1],
        "Passwords__WorkFactor": "10",
        "ForwardedHeaders__KnownProxies__0": "127.0.0.1",
        # The load below logs in from one client address about ten times a second: the per-address limit
        # (60 a minute, per instance) would answer some of those 429 whenever an instance has not restarted
        # lately. This check is about rotation, not throttling (RateLimitTests and LoginThrottleTests are).
        "RateLimits__PerAddress__PermitLimit": "100000",
    }
    one, two = Instance("api-1", published, env, work), Instance("api-2", published, env, work)
    nginx_pid = None
    try:
        # both at once on an empty database, as `docker compose up` starts them: migrations and the admin seed race
        one.start([k1])
        two.start([k1])
        for instance in (one, two):
            ready = instance.wait_ready()
            check(f"{instance.name} starts beside the other on an empty database", ready)
            if not ready:
                print(instance.log_tail())
                return 1

        lb_port = free_port()
        lb = f"http://127.0.0.1:{lb_port}"
        nginx = "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else "nginx"
        started = subprocess.run([nginx, "-c", nginx_config(work, (one, two), lb_port), "-p", work],
                                 capture_output=True, text=True)
        if started.returncode != 0:
            print(started.stderr, open(os.path.join(work, "nginx-error.log")).read() if os.path.exists(
                os.path.join(work, "nginx-error.log")) else "")
            check("nginx starts with deploy/nginx/nginx.conf", False)
            return 1
        nginx_pid = int(open(os.path.join(work, "nginx.pid")).read())
        for _ in range(50):
            if request(lb, "GET", "/health/live", timeout=1)[0] == 200:
                break
            time.sleep(0.1)

        # --- tokens cross over
        user = {"username": "erin", "password": "Erin-Passw0rd!long"}
        check("register through the balancer", request(lb, "POST", "/register", body=user)[0] == 201)
        status, tokens, _ = request(lb, "POST", "/login", body=user)
        check("login through the balancer", status == 200)
        access, refresh = tokens["access_token"], tokens["refresh_token"]
        answers = [request(lb, "GET", "/me", access) for _ in range(40)]
        upstreams = {h.get("X-Upstream") for _, _, h in answers}
        check("40 /me through the balancer all 200", all(s == 200 for s, _, _ in answers),
              f"{sum(s == 200 for s, _, _ in answers)}/40")
        check("both instances answered", upstreams == {f"127.0.0.1:{one.port}", f"127.0.0.1:{two.port}"},
              ", ".join(sorted(filter(None, upstreams))))
        check("instance 1 accepts the token", request(one.base, "GET", "/me", access)[0] == 200)
        check("instance 2 accepts the token", request(two.base, "GET", "/me", access)[0] == 200)
        status, pair, _ = request(one.base, "POST", "/refresh", body={"refresh_token": refresh})
        check("refresh on instance 1", status == 200)
        check("its access token works on instance 2", request(two.base, "GET", "/me", pair["access_token"])[0] == 200)
        status, pair2, _ = request(two.base, "POST", "/refresh", body={"refresh_token": pair["refresh_token"]})
        check("its refresh token works on instance 2", status == 200)

        # --- a second factor enrolled on one instance works on the other: the key ring is in the database
        mfa_user = {"username": "mona", "password": "M0na-Passw0rd!long"}
        request(lb, "POST", "/register", body=mfa_user)
        _, signed_in, _ = request(one.base, "POST", "/login", body=mfa_user)
        status, enrol, _ = request(one.base, "POST", "/me/mfa/totp", signed_in["access_token"])
        check("start a TOTP enrolment on instance 1", status == 200)
        status, _, _ = request(one.base, "POST", "/me/mfa/totp/confirm", signed_in["access_token"],
                               {"password": mfa_user["password"], "code": totp(enrol["secret"], -1)})
        check("confirm it on instance 1", status == 200)
        status, challenge, _ = request(two.base, "POST", "/login", body=mfa_user)
        check("instance 2 asks for the second factor", status == 401 and (challenge or {}).get("error") == "mfa_required")
        status, _, _ = request(two.base, "POST", "/login/mfa", body={"mfa_token": challenge["mfa_token"], "code": totp(enrol["secret"])})
        check("instance 2 accepts a code of the secret instance 1 encrypted", status == 200)

        # --- logout on one, refused by the other within the sync interval
        status, fresh, _ = request(lb, "POST", "/login", body=user)
        check("login again", status == 200)
        check("logout on instance 1", request(one.base, "POST", "/logout", fresh["access_token"],
                                              {"refresh_token": fresh["refresh_token"]})[0] == 204)
        check("refused on instance 1 at once", request(one.base, "GET", "/me", fresh["access_token"])[0] == 401)
        began = time.monotonic()
        while request(two.base, "GET", "/me", fresh["access_token"])[0] != 401 and time.monotonic() - began < 3 * SYNC_INTERVAL:
            time.sleep(0.05)
        took = time.monotonic() - began
        check(f"refused on instance 2 within the sync interval ({SYNC_INTERVAL} s) plus 1 s", took <= SYNC_INTERVAL + 1,
              f"{took:.2f} s")
        check("its refresh token refused on instance 2",
              request(two.base, "POST", "/refresh", body={"refresh_token": fresh["refresh_token"]})[0] == 401)

        status, other, _ = request(lb, "POST", "/login", body=user)
        check("log out everywhere on instance 2", request(two.base, "POST", "/logout/all", other["access_token"])[0] == 204)
        began = time.monotonic()
        while request(one.base, "GET", "/me", other["access_token"])[0] != 401 and time.monotonic() - began < 3 * SYNC_INTERVAL:
            time.sleep(0.05)
        took = time.monotonic() - began
        check("every token of the user refused on instance 1 within the interval plus 1 s", took <= SYNC_INTERVAL + 1,
              f"{took:.2f} s")

        # --- key rotation, rolling restarts under load
        rotator = {"username": "rota", "password": "R0tation-Passw0rd!"}
        request(lb, "POST", "/register", body=rotator)
        status, first, _ = request(lb, "POST", "/login", body=rotator)
        old_token = first["access_token"]
        check("tokens are signed with k1 before the rotation", kid_of(old_token) == "k1")
        load = Load(lb, rotator["username"], rotator["password"], old_token)
        load.start()
        began = time.monotonic()
        for step, keys in (("add k2", [k1, k2]), ("activate k2", [k2[:2] + (True,), k1[:2] + (False,)])):
            for instance in (one, two):
                instance.stop()
                mark = len(load.results)
                instance.start(keys)
                ready = instance.wait_ready()
                # back in rotation: nginx has sent it a request that succeeded (not merely marked it up)
                deadline = time.monotonic() + 30
                while ready and not load.seen_since(mark, instance.port) and time.monotonic() < deadline:
                    time.sleep(0.1)
                check(f"{step}: {instance.name} restarted and back behind the balancer",
                      ready and load.seen_since(mark, instance.port))
        load.stopping.set()
        load.join()
        bad = [r for r in load.results if r[1] != 200]
        logins = sum(1 for r in load.results if r[0] == "POST /login")
        check("no failed request during the rotation", not bad and len(load.results) > 100,
              f"{len(load.results)} requests ({logins} logins) in {time.monotonic() - began:.1f} s, {len(bad)} failed"
              + (f", e.g. {bad[:3]}" if bad else ""))
        status, after, _ = request(lb, "POST", "/login", body=rotator)
        check("new tokens are signed with k2", status == 200 and kid_of(after["access_token"]) == "k2")
        for instance in (one, two):
            check(f"{instance.name} still accepts the k1 token and accepts the k2 token",
                  request(instance.base, "GET", "/me", old_token)[0] == 200
                  and request(instance.base, "GET", "/me", after["access_token"])[0] == 200)

        # --- health follows the database
        check("/health/live and /health/ready answer 200", all(
            request(i.base, "GET", p)[0] == 200 for i in (one, two) for p in ("/health/live", "/health/ready")))
        as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(as_owner + [pg_ctl, "-D", pg_data, "-m", "fast", "stop"], capture_output=True, check=True)
        check("database down: /health/ready is 503, /health/live still 200",
              request(one.base, "GET", "/health/ready")[0] == 503 and request(one.base, "GET", "/health/live")[0] == 200)
        status, problem, headers = request(lb, "POST", "/login", body=rotator)
        check("database down: login answers 503 problem+json with Retry-After, not 500",
              status == 503 and headers.get("Content-Type", "").startswith("application/problem+json")
              and headers.get("Retry-After") == "5", f"{status} {headers.get('Retry-After')}")
        check("database down: a valid token is still accepted (no database on the request path)",
              request(one.base, "GET", "/me", after["access_token"])[0] == 200)
    finally:
        if nginx_pid:
            os.kill(nginx_pid, signal.SIGTERM)
        for instance in (one, two):
            instance.stop()
        if failed:
            for instance in (one, two):
                print(f"--- {instance.name} log tail\n{instance.log_tail(15)}")
        subprocess.run(["rm", "-rf", work])
    print(f"scale-out: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
