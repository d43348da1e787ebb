"""HTTP load benchmark against gunicorn as `make serve` runs it (gunicorn.conf.py, DEBUG off),
with 2 workers and a redis-server of its own: the same view

- **protected**: ``/demo/a/bench/`` behind mfagate's access middleware, with a live app session;
- **unprotected**: ``/bench/plain/``, no access middleware at all, the same browser session;
- **peer**: ``/bench/peer/``, django-otp's ``OTPMiddleware`` + ``otp_required``, with a session
  verified by django-otp (bench/settings.py, bench/urls.py).

Each session signs in once over HTTP (the real sign-in form, the MFA challenge with a TOTP code,
django-otp's verification); wrk then replays its session cookie. Every run measures the three in
turn (the order rotates) for ``BENCH_DURATION`` seconds each (default 3) with ``BENCH_CONNECTIONS``
connections (default 4) on one wrk thread; a Lua hook counts any answer that is not 200, which
fails the run. Figures are medians over ``BENCH_RUNS`` runs (default 5) with their min–max;
the ratios are taken within each run, so load that comes and goes blurs them less. The
last line is ``http_rps_ratio=<protected/unprotected> peer_rps_ratio=<peer/unprotected>``.

Run: ``.venv/bin/python bench/http_load.py`` (or ``make bench-http``; needs ``wrk``: ``apt-get
install -y wrk``). Its database is SQLite in a temporary directory; ``BENCH_DATABASE_URL`` uses
another one instead, **which it empties**. Only loopback is used; gunicorn and redis-server are
stopped by pid whatever happens.
"""

from __future__ import annotations

import atexit
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import free_port, spread, start_redis, stop, wait_for_port  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
DURATION = int(os.environ.get("BENCH_DURATION", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
WORKERS = 2
ENDPOINTS = (("protected", "/demo/a/bench/"), ("unprotected", "/bench/plain/"), ("peer", "/bench/peer/"))
LUA = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not_ok = 0 end
function response(status, headers, body) if status ~= 200 then not_ok = not_ok + 1 end end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("not_ok") end
  io.write(string.format("not_200=%d\\n", total))
end
"""

WRK = shutil.which("wrk")
if WRK is None:
    raise SystemExit("wrk is not installed: apt-get install -y wrk")

_tmp = tempfile.TemporaryDirectory(prefix="mfagate-http-bench-")
TMP = Path(_tmp.name)
_started: list[subprocess.Popen] = []
atexit.register(lambda: [stop(p) for p in reversed(_started)])
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

_redis, _redis_url = start_redis(TMP)
_started.append(_redis)


def _pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


# The environment of `make serve` (DEBUG off, Redis, one JWT key), on plain loopback http.
ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "MFAGATE_JWT_PRIVATE_KEY": _pem(),
    "REDIS_URL": _redis_url,
    "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{TMP}/bench.sqlite3",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SESSION_COOKIE_SECURE": "false",  # plain http on loopback: the client must send the cookie back
}
os.environ.update(ENV)

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402


def setup_data() -> tuple[str, str]:
    """The demo, a TOTP authenticator for other@demo.test (mfagate) and a django-otp TOTP device
    for p2@demo.test (the peer); returns their hex keys."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from enrollment import totp
    from enrollment.models import Authenticator
    from mfa_policies import clock
    from mfa_policies.demo.seed import seed_demo

    call_command("migrate", verbosity=0, interactive=False)
    if os.environ.get("BENCH_DATABASE_URL"):
        call_command("flush", verbosity=0, interactive=False)
    seed_demo()
    call_command("collectstatic", verbosity=0, interactive=False)
    User = get_user_model()
    key = totp.new_secret()
    device = totp.create_device(user=User.objects.get(email="other@demo.test"), key_hex=key, accepted_t=0,
                                name="Bench phone")
    Authenticator.objects.create(user=device.user, kind="totp", name="Bench phone", created_at=clock.now(),
                                 totp_device=device)
    peer_key = totp.new_secret()
    TOTPDevice.objects.create(user=User.objects.get(email="p2@demo.test"), name="peer", key=peer_key, confirmed=True)
    connections.close_all()
    return key, peer_key


def code(key_hex: str) -> str:
    from django_otp.oath import TOTP

    t = TOTP(bytes.fromhex(key_hex), step=30, t0=0, digits=6, drift=0)
    t.time = time.time()
    return f"{t.token():06d}"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def sign_in(base: str, email: str) -> requests.Session:
    s = requests.Session()
    page = s.get(f"{base}/accounts/login/")
    r = s.post(f"{base}/accounts/login/", data={"login": email, "password": "demo-password",
                                                "csrfmiddlewaretoken": csrf_of(page.text)},
               headers={"Referer": f"{base}/accounts/login/"}, allow_redirects=False)
    assert r.status_code == 302, (r.status_code, r.text[:300])
    return s


def mfagate_session(base: str, key: str) -> str:
    s = sign_in(base, "other@demo.test")
    r = s.get(f"{base}/demo/a/bench/", allow_redirects=False)
    assert r.status_code == 302 and "/mfa/verify/" in r.headers["Location"], (r.status_code, r.headers)
    challenge = f"{base}{r.headers['Location']}"
    page = s.get(challenge)
    r = s.post(challenge, data={"code": code(key), "csrfmiddlewaretoken": csrf_of(page.text)},
               headers={"Referer": challenge}, allow_redirects=False)
    assert r.status_code == 302, (r.status_code, r.text[:300])
    r = s.get(f"{base}/demo/a/bench/", allow_redirects=False)
    assert r.status_code == 200, (r.status_code, r.headers)  # a live app session now
    return s.cookies["sessionid"]


def peer_session(base: str, key: str) -> str:
    s = sign_in(base, "p2@demo.test")
    assert s.get(f"{base}/bench/peer/", allow_redirects=False).status_code == 302  # not verified yet
    r = s.post(f"{base}/bench/peer/verify/", data={"otp_token": code(key)})
    assert r.status_code == 200, (r.status_code, r.text)
    assert s.get(f"{base}/bench/peer/", allow_redirects=False).status_code == 200
    return s.cookies["sessionid"]


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, cookie: str, duration: int) -> dict:
    script = TMP / "count.lua"
    script.write_text(LUA)
    out = subprocess.run(
        [WRK, "-t1", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", "-s", str(script),
         "-H", f"Cookie: sessionid={cookie}", url],
        capture_output=True, text=True, timeout=duration + 30, check=True,
    ).stdout
    latency = {p: float(v) * UNITS[u] for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)$", out, re.M)}
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": latency["50"], "p99": latency["99"],
            "not_200": int(re.search(r"not_200=(\d+)", out).group(1))}


def main():
    key, peer_key = setup_data()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(TMP / "gunicorn.log", "w")  # noqa: SIM115 — open for the server's lifetime
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--workers", str(WORKERS),
                               "--bind", f"127.0.0.1:{port}"],
                              cwd=ROOT, env={**os.environ, **ENV}, stdout=log, stderr=subprocess.STDOUT)
    _started.append(server)
    wait_for_port(port, process=server)
    cookies = {"protected": mfagate_session(base, key), "peer": peer_session(base, peer_key)}
    cookies["unprotected"] = cookies["protected"]  # the same browser session, no access middleware
    print(f"gunicorn: {WORKERS} workers (gunicorn.conf.py), DEBUG off, own redis-server, "
          f"database {ENV['DATABASE_URL'].split(':', 1)[0]}; wrk -t1 -c{CONNECTIONS} -d{DURATION}s per endpoint and run; load average {os.getloadavg()[0]:.1f}",
          flush=True)
    for name, p in ENDPOINTS:  # warm every worker
        wrk(f"{base}{p}", cookies[name], 2)

    results = {name: [] for name, _ in ENDPOINTS}
    for run in range(RUNS):
        order = ENDPOINTS[run % 3:] + ENDPOINTS[:run % 3]
        for name, p in order:
            r = wrk(f"{base}{p}", cookies[name], DURATION)
            assert r["not_200"] == 0, f"{name}: {r['not_200']} answers were not 200"
            results[name].append(r)
            print(f"  run {run + 1}/{RUNS} {name:<11} {r['rps']:8.1f} req/s  p50 {r['p50']:.2f} ms  "
                  f"p99 {r['p99']:.2f} ms", flush=True)
    stop(server)
    log.close()

    print()
    for name, _ in ENDPOINTS:
        rows = results[name]
        print(f"{name:<11} req/s {spread([r['rps'] for r in rows], '{:.0f}')}; "
              f"p50 {spread([r['p50'] for r in rows])} ms; p99 {spread([r['p99'] for r in rows])} ms")
    ratio = [p["rps"] / u["rps"] for p, u in zip(results["protected"], results["unprotected"])]
    peer = [p["rps"] / u["rps"] for p, u in zip(results["peer"], results["unprotected"])]
    print(f"req/s ratio, same run: protected/unprotected {spread(ratio)}; peer/unprotected {spread(peer)}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores; other processes share them)")
    print(f"http_rps_ratio={statistics.median(ratio):.2f} peer_rps_ratio={statistics.median(peer):.2f}")


if __name__ == "__main__":
    main()
