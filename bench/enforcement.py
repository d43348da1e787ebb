"""Benchmark, in one process: the access middleware's hot path (a live app session) against the
same view without it, with the local-memory cache and with Redis side by side, at 3 and at
20 003 applications; then the login flow (no live app session) at 10 and at 2 000 attached
policies, timed against each other, and its query counts (also at 10 000 policies and users).

Run: ``.venv/bin/python bench/enforcement.py`` (or ``make bench``). Uses its own SQLite database in
a temporary directory (migrated, the demo seeded, the extra rows made with ``bulk_create``) and a
redis-server of its own on a free loopback port, stopped by pid at the end. Every figure is the
median over ``BENCH_RUNS`` runs (default 3) with its min–max. The last line is
``overhead_ratio=<x.xx> extra_queries=<n> redis_overhead_ratio=<x.xx>``: median with / median
without, for the local-memory cache and for Redis, each at whichever application count is worse.
``BENCH_N`` (default 3000) requests each per run and cache; ``BENCH_FLOWS`` (default 150) login
flows each per run.
"""

from __future__ import annotations

import atexit
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import spread, start_redis, stop  # noqa: E402

N = int(os.environ.get("BENCH_N", "3000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
FLOWS = int(os.environ.get("BENCH_FLOWS", "150"))
WARMUP = 200
MANY_APPS = 20_000
MANY_POLICIES = 2_000

_tmp = tempfile.TemporaryDirectory(prefix="mfagate-bench-")
_redis, _redis_url = start_redis(Path(_tmp.name))
atexit.register(stop, _redis)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
os.environ["DATABASE_URL"] = f"sqlite:///{_tmp.name}/bench.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["REDIS_URL"] = _redis_url  # settings build the Redis cache as in production

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import path  # noqa: E402

REDIS_CACHES = settings.CACHES
LOCMEM_CACHES = {"default": {"BACKEND": "mfa_policies.cache_backends.LocMemCache", "LOCATION": "mfagate-bench"}}
CACHES = (("locmem", LOCMEM_CACHES), ("redis", REDIS_CACHES))
ACCESS_MIDDLEWARE = "mfa_policies.access.middleware.AccessMiddleware"
APPS_KEY = "mfagate.apps"  # mfa_policies.access.session_state: the browser session's app sessions
VIEW_PATH = "/demo/a/bench/"  # covered by Application A's prefix /demo/a/ (10 policies)
MANY_POLICIES_PATH = "/bench/policies/"  # covered by "Bench policies" (2 000 policies)


def protected_view(request):
    return HttpResponse(f"hello {request.user.email}")


class BenchUrls:
    """A URLconf: the project's routes plus the benchmark views."""

    from config.urls import urlpatterns as _project

    urlpatterns = [path(VIEW_PATH.lstrip("/"), protected_view),
                   path(MANY_POLICIES_PATH.lstrip("/"), protected_view)] + list(_project)


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


def publish_change(**which):
    """Tell both caches' readers that the configuration changed, through the services."""
    from mfa_policies.services import configuration_changed

    for _, caches in CACHES:
        with override_settings(CACHES=caches), transaction.atomic():
            configuration_changed(**(which or {"everything": True}))


def timed(client, n_path=VIEW_PATH) -> int:
    start = time.perf_counter_ns()
    response = client.get(n_path)
    elapsed = time.perf_counter_ns() - start
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    return elapsed


def queries_for(client, n_path=VIEW_PATH) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(n_path).status_code == 200
    return len(ctx.captured_queries)


def drop_app_sessions(client):
    session = client.session
    session.pop(APPS_KEY, None)
    session.save()


def login_flow_queries(client, n_path=VIEW_PATH) -> int:
    drop_app_sessions(client)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(n_path)
    assert response.status_code == 200, response.get("Location")
    return len(ctx.captured_queries)


def login_flow_ns(client, n_path) -> int:
    drop_app_sessions(client)
    return timed(client, n_path)


def hot_path_run(with_mw, without_mw) -> tuple[float, float]:
    """One run: ``N`` alternating pairs after ``WARMUP``; the medians with and without, in µs."""
    for _ in range(WARMUP):
        timed(with_mw), timed(without_mw)
    t_with, t_without = [], []
    for i in range(N):
        if i % 2:
            t_with.append(timed(with_mw)); t_without.append(timed(without_mw))
        else:
            t_without.append(timed(without_mw)); t_with.append(timed(with_mw))
    return statistics.median(t_with) / 1000, statistics.median(t_without) / 1000


def hot_path(with_mw, without_mw, label: str) -> dict:
    """``RUNS`` runs, each with both caches in turn: ratios, medians and queries per cache."""
    result = {name: {"ratio": [], "with": [], "without": []} for name, _ in CACHES}
    for run in range(RUNS):
        for name, caches in (CACHES if run % 2 == 0 else CACHES[::-1]):
            with override_settings(CACHES=caches):
                us_with, us_without = hot_path_run(with_mw, without_mw)
            result[name]["ratio"].append(us_with / us_without)
            result[name]["with"].append(us_with)
            result[name]["without"].append(us_without)
            print(f"  {label} cache={name} run {run + 1}/{RUNS}: with {us_with:.1f} us, without {us_without:.1f} us, "
                  f"ratio {us_with / us_without:.3f}", flush=True)
    for name, caches in CACHES:
        with override_settings(CACHES=caches):
            timed(with_mw), timed(without_mw)  # a switch of cache reloads the table once
            result[name]["extra_queries"] = queries_for(with_mw) - queries_for(without_mw)
    return result


def add_applications(count: int):
    """``count`` more applications in an organization of their own, each covering one prefix
    (longer than the demo's, so a scan in prefix order passes them all first)."""
    from mfa_policies.models import Application, Organization

    org = Organization.objects.create(name="Bench", auth_domain="bench.localhost")
    Application.objects.bulk_create(
        [Application(organization=org, name=f"bench app {i:05d}", path_prefixes=[f"/bench/apps/{i:05d}/"])
         for i in range(count)], batch_size=2000)
    publish_change()


def add_policies(app, count: int, *, start_index: int = 0):
    """Attach ``count`` policies matching nobody to ``app``, after its own (so the demo's
    "Everyone" still decides): what the selectors load and build grows, the decision does not."""
    from mfa_policies.models import AppPolicy, Policy

    policies = Policy.objects.bulk_create([
        Policy(organization=app.organization, name=f"bench policy {app.pk}-{i}",
               include=[{"selector": "email", "value": f"b{i}@bench.test"}])
        for i in range(start_index, start_index + count)], batch_size=2000)
    last = AppPolicy.objects.filter(application=app).order_by("-precedence").first()
    start = (last.precedence if last else 0) + 1
    AppPolicy.objects.bulk_create([AppPolicy(application=app, policy=p, precedence=start + i)
                                   for i, p in enumerate(policies)], batch_size=2000)
    publish_change(application_ids=[app.pk])


def add_members(count: int):
    from django.contrib.auth import get_user_model

    from mfa_policies.models import Membership, Organization

    User = get_user_model()
    org = Organization.objects.get(name="Demo")
    users = User.objects.bulk_create([User(email=f"b{i}@bench.test", password="!") for i in range(count)],
                                     batch_size=2000)
    Membership.objects.bulk_create([Membership(user=u, organization=org) for u in users], batch_size=2000)


def many_policies_app():
    """"Bench policies": Application A's three demo policies, then 1 997 more."""
    from mfa_policies.models import AppPolicy, Application, Policy

    a = Application.objects.get(name="Application A")
    app = Application.objects.create(organization=a.organization, name="Bench policies",
                                     path_prefixes=[MANY_POLICIES_PATH], session_duration="24h")
    demo = [ap.policy for ap in AppPolicy.objects.filter(application=a).order_by("precedence")]
    AppPolicy.objects.bulk_create([AppPolicy(application=app, policy=p, precedence=i + 1) for i, p in enumerate(demo)])
    add_policies(app, MANY_POLICIES - len(demo))
    assert Policy.objects.filter(applications=app).count() == MANY_POLICIES
    return app


def main():
    from mfa_policies.models import AppPolicy, Application

    setup_test_environment()
    report = []
    with override_settings(ROOT_URLCONF="bench_urls", ALLOWED_HOSTS=["testserver"], DEBUG=False,
                           CACHES=LOCMEM_CACHES):
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

        hot = {}
        apps_now = Application.objects.count()
        print(f"hot path: a live app session vs no access middleware, {N} requests each per run", flush=True)
        hot[apps_now] = hot_path(with_mw, without_mw, f"applications={apps_now}")

        # The login flow at the demo's application count, so the prefix scan does not blur it.
        a = Application.objects.get(name="Application A")
        add_policies(a, 10 - AppPolicy.objects.filter(application=a).count(), start_index=100_000)
        many = many_policies_app()
        ratios, t10, t2k = [], [], []
        print(f"login flow (no live app session, local-memory cache), {FLOWS} flows each per run", flush=True)
        for _ in range(20):
            login_flow_ns(with_mw, VIEW_PATH), login_flow_ns(with_mw, MANY_POLICIES_PATH)
        for run in range(RUNS):
            few_ns, many_ns = [], []
            for i in range(FLOWS):
                order = ((few_ns, VIEW_PATH), (many_ns, MANY_POLICIES_PATH))
                for into, n_path in (order if i % 2 else order[::-1]):
                    into.append(login_flow_ns(with_mw, n_path))
            few, lots = statistics.median(few_ns) / 1e6, statistics.median(many_ns) / 1e6
            t10.append(few); t2k.append(lots); ratios.append(lots / few)
            print(f"  run {run + 1}/{RUNS}: 10 policies {few:.2f} ms, {MANY_POLICIES} policies {lots:.2f} ms, "
                  f"ratio {lots / few:.2f}", flush=True)
        q10, q2k = login_flow_queries(with_mw, VIEW_PATH), login_flow_queries(with_mw, MANY_POLICIES_PATH)
        assert AppPolicy.objects.filter(application=many).count() == MANY_POLICIES

        add_applications(MANY_APPS)
        apps_many = Application.objects.count()
        hot[apps_many] = hot_path(with_mw, without_mw, f"applications={apps_many}")

        add_policies(a, 10_000 - 10, start_index=200_000)
        add_members(10_000)
        login_flow_queries(with_mw)  # the first flow after the change
        q10k = login_flow_queries(with_mw)

    print()
    print(f"cache backends: locmem={LOCMEM_CACHES['default']['BACKEND']} redis={REDIS_CACHES['default']['BACKEND']} "
          f"(own redis-server)")
    worst = {"locmem": 0.0, "redis": 0.0}
    extra = 0
    for apps, result in hot.items():
        for name in worst:
            r = result[name]
            report.append(f"applications={apps} {name}: ratio {spread(r['ratio'])}; with {spread(r['with'], '{:.0f}')} us, "
                          f"without {spread(r['without'], '{:.0f}')} us; extra queries {r['extra_queries']}")
            worst[name] = max(worst[name], statistics.median(r["ratio"]))
            extra = max(extra, r["extra_queries"])
    report.append(f"login flow: 10 policies {spread(t10, '{:.2f}')} ms, {MANY_POLICIES} policies "
                  f"{spread(t2k, '{:.2f}')} ms, ratio {spread(ratios)}")
    report.append(f"login-flow queries: 10 policies={q10} {MANY_POLICIES} policies={q2k} "
                  f"10000 policies/users={q10k}")
    print("\n".join(report))
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores; other processes share them)")
    print(f"overhead_ratio={worst['locmem']:.2f} extra_queries={extra} redis_overhead_ratio={worst['redis']:.2f}")


if __name__ == "__main__":
    main()
