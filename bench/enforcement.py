"""Benchmark: the access middleware's hot path (a live app session) against the same view
without it, in one process, alternating; plus the login flow's query count at 10 and 10 000
policies and users.

Run: ``.venv/bin/python bench/enforcement.py`` (or ``make bench``). Uses its own SQLite database in
a temporary directory, migrates and seeds the demo. The last line is
``overhead_ratio=<median with / median without> extra_queries=<queries added per request>``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
N = int(os.environ.get("BENCH_N", "3000"))
WARMUP = 200

_tmp = tempfile.TemporaryDirectory(prefix="mfagate-bench-")
os.environ["DATABASE_URL"] = f"sqlite:///{_tmp.name}/bench.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.pop("REDIS_URL", None)  # in-process locmem cache unless BENCH_REDIS_URL is given
if os.environ.get("BENCH_REDIS_URL"):
    os.environ["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import path  # noqa: E402

ACCESS_MIDDLEWARE = "mfa_policies.access.middleware.AccessMiddleware"
VIEW_PATH = "/demo/a/bench/"  # covered by Application A's prefix /demo/a/


def protected_view(request):
    return HttpResponse(f"hello {request.user.email}")


class BenchUrls:
    """A URLconf: the project's routes plus the benchmark view."""

    from config.urls import urlpatterns as _project

    urlpatterns = [path(VIEW_PATH.lstrip("/"), protected_view)] + list(_project)


sys.modules["bench_urls"] = BenchUrls  # type: ignore[assignment]


def setup_data():
    from django.contrib.auth import get_user_model
    from django_otp.oath import TOTP

    from enrollment import totp
    from enrollment.models import Authenticator
    from mfa_policies import clock
    from mfa_policies.demo.seed import seed_demo

    call_command("migrate", verbosity=0, interactive=False)
    seed_demo()
    user = get_user_model().objects.get(email="other@demo.test")
    key_hex = totp.new_secret()
    device = totp.create_device(user=user, key_hex=key_hex, accepted_t=0, name="Bench phone")
    Authenticator.objects.create(user=user, kind="totp", name="Bench phone", created_at=clock.now(), totp_device=device)

    def code():
        t = TOTP(bytes.fromhex(key_hex), step=30, t0=0, digits=6, drift=0)
        t.time = clock.now().timestamp()
        return f"{t.token():06d}"

    return user, code


def timed(client, n_path=VIEW_PATH) -> int:
    start = time.perf_counter_ns()
    response = client.get(n_path)
    elapsed = time.perf_counter_ns() - start
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    return elapsed


def queries_for(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(VIEW_PATH).status_code == 200
    return len(ctx.captured_queries)


def login_flow_queries(client) -> int:
    session = client.session
    session.pop("mfagate.apps", None)
    session.save()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(VIEW_PATH)
    assert response.status_code == 200, response.get("Location")
    return len(ctx.captured_queries)


def grow(target: int):
    """Bring Application A up to ``target`` policies and the organization up to ``target`` users."""
    from django.contrib.auth import get_user_model

    from mfa_policies.models import AppPolicy, Application, Membership, Organization, Policy

    User = get_user_model()
    org = Organization.objects.get(name="Demo")
    app = Application.objects.get(name="Application A")
    have_p = Policy.objects.filter(organization=org).count()
    policies = Policy.objects.bulk_create([
        Policy(organization=org, name=f"bench policy {i}", include=[{"selector": "email", "value": f"b{i}@bench.test"}])
        for i in range(have_p, target)
    ])
    start = (AppPolicy.objects.filter(application=app).order_by("-precedence").first().precedence or 0) + 1
    AppPolicy.objects.bulk_create([AppPolicy(application=app, policy=p, precedence=start + i) for i, p in enumerate(policies)])
    have_u = User.objects.count()
    users = User.objects.bulk_create([User(email=f"b{i}@bench.test", password="!") for i in range(have_u, target)])
    Membership.objects.bulk_create([Membership(user=u, organization=org) for u in users])


def main():
    setup_test_environment()
    with override_settings(ROOT_URLCONF="bench_urls", ALLOWED_HOSTS=["testserver"], DEBUG=False):
        user, code = setup_data()
        with_mw = Client()
        assert with_mw.post("/accounts/login/", {"login": user.email, "password": "demo-password"}).status_code == 302
        assert with_mw.get(VIEW_PATH)["Location"].startswith("/mfa/verify/")
        assert with_mw.post("/mfa/verify/", {"code": code()}).status_code == 302
        assert with_mw.get(VIEW_PATH).status_code == 200  # a live app session now

        without_mw = Client()
        without_mw.cookies = with_mw.cookies  # the same signed-in browser session
        with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m != ACCESS_MIDDLEWARE]):
            assert without_mw.get(VIEW_PATH).status_code == 200  # builds its middleware chain now

        for _ in range(WARMUP):
            timed(with_mw), timed(without_mw)
        t_with, t_without = [], []
        for i in range(N):
            if i % 2:
                t_with.append(timed(with_mw)); t_without.append(timed(without_mw))
            else:
                t_without.append(timed(without_mw)); t_with.append(timed(with_mw))
        q_with, q_without = queries_for(with_mw), queries_for(without_mw)

        grow(10)
        login_flow_queries(with_mw)  # warm the table after the change
        flow_10 = login_flow_queries(with_mw)
        grow(10_000)
        flow_10k = login_flow_queries(with_mw)

    med_with, med_without = statistics.median(t_with), statistics.median(t_without)
    print(f"requests each: {N} (alternating, after {WARMUP} warm-up pairs); cache: {settings.CACHES['default']['BACKEND']}")
    print(f"median with middleware (live app session): {med_with / 1000:.1f} us")
    print(f"median without middleware:                 {med_without / 1000:.1f} us")
    print(f"queries per request: with={q_with} without={q_without}")
    print(f"login-flow queries: 10 policies/users={flow_10} 10000 policies/users={flow_10k}")
    print(f"overhead_ratio={med_with / med_without:.2f} extra_queries={q_with - q_without}")


if __name__ == "__main__":
    main()
