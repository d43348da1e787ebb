"""Benchmark: the runtime at scale — the hot path at 3 and at 20 000 applications, what one
organization's change and an environment-wide change cost a process holding 20 000, and the login
flow with 2 000 policies.

Run: ``.venv/bin/python bench/runtime_scale.py`` — with Redis (a redis-server of its own, and its
invalidation channel), or with ``BENCH_CACHE=locmem`` the local-memory cache (and the in-process
channel). Uses ``bench/enforcement.py``'s database, demo and timing (imported, unchanged). Prints one
line per figure and, last, ``scale_ratio_3=<x> scale_ratio_20000=<y> org_reload_ms=<median>
env_reload_ms=<median> login_flow_2000_ratio=<z> login_flow_2000_last_ratio=<w>``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import enforcement as base  # noqa: E402  (sets up Django and its own database)

from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

N = int(os.environ.get("BENCH_N", "2000"))
APPS = int(os.environ.get("BENCH_APPS", "20000"))
FLOWS = int(os.environ.get("BENCH_FLOWS", "200"))
CACHES = base.LOCMEM_CACHES if os.environ.get("BENCH_CACHE") == "locmem" else base.REDIS_CACHES


def ratio(with_mw: Client, without_mw: Client) -> tuple[float, float, float]:
    for _ in range(base.WARMUP):
        base.timed(with_mw), base.timed(without_mw)
    t_with, t_without = [], []
    for i in range(N):
        if i % 2:
            t_with.append(base.timed(with_mw)); t_without.append(base.timed(without_mw))
        else:
            t_without.append(base.timed(without_mw)); t_with.append(base.timed(with_mw))
    a, b = statistics.median(t_with), statistics.median(t_without)
    return a / b, a / 1000, b / 1000


def add_applications(count: int) -> int:
    """``count`` applications in organizations of 100, each on its own prefix; returns the id of a
    one-application organization to change later."""
    from mfa_policies.models import Application, Organization
    from mfa_policies.services import configuration_changed

    orgs = Organization.objects.bulk_create([Organization(name=f"scale org {i}") for i in range(count // 100)])
    Application.objects.bulk_create([
        Application(organization=orgs[i // 100], name=f"scale app {i}", path_prefixes=[f"/scale/{i}/", f"/s{i}"])
        for i in range(count)])
    small = Organization.objects.create(name="scale small org")
    Application.objects.create(organization=small, name="scale small app", path_prefixes=["/small/"])
    with transaction.atomic():
        configuration_changed(everything=True)  # bulk writes bypass the services: announce them
    return small.pk


def organization_change_cost(org_id: int, rounds: int = 30) -> list[float]:
    """What a process holding the table pays at its next request after one organization's change:
    the database asked what changed, that organization reloaded, the indexes copied."""
    from mfa_policies.access import mirror
    from mfa_policies.services import configuration_changed

    mirror.table()
    costs = []
    for _ in range(rounds):
        with transaction.atomic():
            configuration_changed(organization_id=org_id)
        start = time.perf_counter()
        mirror.refresh()
        costs.append(time.perf_counter() - start)
        assert mirror.last_refresh()[1] == "organizations"
    return costs


def environment_change_cost(rounds: int = 30) -> list[float]:
    """What a process holding the table pays at its next request after an environment-wide change
    (the environment, a role, a connection): the database asked what changed — and nothing reloaded."""
    from mfa_policies.access import mirror
    from mfa_policies.services import configuration_changed

    mirror.table()
    costs = []
    for _ in range(rounds):
        with transaction.atomic():
            configuration_changed(environment_wide=True)
        start = time.perf_counter()
        mirror.refresh()
        costs.append(time.perf_counter() - start)
        assert mirror.last_refresh()[1] == "environment"
    return costs


def environment_change_next_request(client: Client, rounds: int = 30) -> list[float]:
    """The whole next request of a live app session after an environment-wide change: the refresh
    above, then its login flow again (the change may alter its decision; here it passes by its MFA
    session)."""
    from mfa_policies.services import configuration_changed

    costs = []
    for _ in range(rounds):
        with transaction.atomic():
            configuration_changed(environment_wide=True)
        costs.append(base.timed(client) / 1e9)
        assert client.get(base.VIEW_PATH).status_code == 200  # live again
    return costs


def full_reload_cost() -> float:
    from mfa_policies.access import mirror

    start = time.perf_counter()
    mirror.reset()
    mirror.table()
    return time.perf_counter() - start


LARGE_PATH = "/demo/large/bench/"


def _large_view(request):
    from django.http import HttpResponse

    return HttpResponse("large")


base.BenchUrls.urlpatterns.insert(0, __import__("django.urls").urls.path(LARGE_PATH.lstrip("/"), _large_view))


def application_with_policies(count: int, *, user_matches_last: bool) -> None:
    """An application like Application A (same organization, same three policies first) on
    :data:`LARGE_PATH` with ``count`` policies attached in all: the extra ones — which the user does
    not match — after A's three (the resolver stops at the user's policy, the third), or, with
    ``user_matches_last``, before them (the resolver tries every one first)."""
    from mfa_policies.models import AppPolicy, Application, Policy
    from mfa_policies.services import configuration_changed

    demo = Application.objects.get(name="Application A")
    name = f"Bench {count} {'last' if user_matches_last else 'third'}"
    Application.objects.filter(name__startswith="Bench ").update(path_prefixes=[])  # the previous one
    app = Application.objects.create(organization=demo.organization, name=name, path_prefixes=["/demo/large/"])
    own = [link.policy for link in AppPolicy.objects.filter(application=demo).order_by("precedence")]
    extra = Policy.objects.bulk_create([
        Policy(organization=demo.organization, name=f"{name} {i}",
               include=[{"selector": "email", "value": f"x{i}@bench.test"}]) for i in range(count - len(own))])
    ordered = extra + own if user_matches_last else own + extra
    AppPolicy.objects.bulk_create([AppPolicy(application=app, policy=p, precedence=i + 1) for i, p in enumerate(ordered)])
    with transaction.atomic():
        configuration_changed(application_ids=[app.pk])  # bulk writes bypass the services: announce them


def login_flows_side_by_side(client: Client, flows: int = FLOWS) -> tuple[float, float]:
    """Median login flow on Application A and on the large application, alternating (each request
    starts without its app session, with the same MFA session)."""
    def one(path):
        session = client.session
        session.pop("mfagate.apps", None)
        session.save()
        start = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, (path, response.status_code, response.get("Location"))
        return elapsed

    one(base.VIEW_PATH), one(LARGE_PATH)  # each application's configuration input, built once
    demo, large = [], []
    for i in range(flows):
        if i % 2:
            demo.append(one(base.VIEW_PATH)); large.append(one(LARGE_PATH))
        else:
            large.append(one(LARGE_PATH)); demo.append(one(base.VIEW_PATH))
    return statistics.median(demo), statistics.median(large)


def main():
    setup_test_environment()
    from mfa_policies.access import channel, mirror

    with override_settings(ROOT_URLCONF="bench_urls", ALLOWED_HOSTS=["testserver"], DEBUG=False, CACHES=CACHES):
        channel.reset(), mirror.reset()  # the channel of this cache
        user, code = base.setup_data()
        with_mw = Client()
        assert with_mw.post("/accounts/login/", {"login": user.email, "password": "demo-password"}).status_code == 302
        assert with_mw.get(base.VIEW_PATH)["Location"].startswith("/mfa/verify/")
        assert with_mw.post("/mfa/verify/", {"code": code()}).status_code == 302
        assert with_mw.get(base.VIEW_PATH).status_code == 200
        without_mw = Client()
        without_mw.cookies = with_mw.cookies
        middleware = [m for m in settings.MIDDLEWARE if m != base.ACCESS_MIDDLEWARE]
        with override_settings(MIDDLEWARE=middleware):
            assert without_mw.get(base.VIEW_PATH).status_code == 200

        from mfa_policies.models import Application
        apps_small = Application.objects.count()
        r_small, w_small, wo_small = ratio(with_mw, without_mw)

        small_org = add_applications(APPS)
        apps_large = Application.objects.count()
        assert with_mw.get(base.VIEW_PATH).status_code == 200  # the table reloaded, the session still live
        r_large, w_large, wo_large = ratio(with_mw, without_mw)
        org_costs = organization_change_cost(small_org)
        env_costs = environment_change_cost()
        env_requests = environment_change_next_request(with_mw)
        full = full_reload_cost()

        application_with_policies(2000, user_matches_last=False)
        demo_third, large_third = login_flows_side_by_side(with_mw)
        application_with_policies(2000, user_matches_last=True)
        demo_last, large_last = login_flows_side_by_side(with_mw)

    med = statistics.median
    print(f"cache: {CACHES['default']['BACKEND']}; {N} requests each, alternating")
    print(f"hot path at {apps_small} applications: with {w_small:.1f} us, without {wo_small:.1f} us, ratio {r_small:.3f}")
    print(f"hot path at {apps_large} applications: with {w_large:.1f} us, without {wo_large:.1f} us, ratio {r_large:.3f}")
    print(f"one organization's change at {apps_large} applications, next request's refresh: "
          f"median {med(org_costs) * 1000:.2f} ms, max {max(org_costs) * 1000:.2f} ms ({len(org_costs)} changes)")
    print(f"an environment-wide change at {apps_large} applications, next request's refresh: "
          f"median {med(env_costs) * 1000:.2f} ms, max {max(env_costs) * 1000:.2f} ms ({len(env_costs)} changes)")
    print(f"an environment-wide change, a live app session's whole next request (its login flow re-run): "
          f"median {med(env_requests) * 1000:.2f} ms, max {max(env_requests) * 1000:.2f} ms "
          f"({len(env_requests)} changes; the hot path is {w_large / 1000:.2f} ms)")
    print(f"full reload of {apps_large} applications (writes that bypassed the services): {full * 1000:.0f} ms")
    third, last = large_third / demo_third, large_last / demo_last
    print(f"login flow, alternating ({FLOWS} each): Application A (3 policies) {demo_third * 1000:.2f} ms vs the same "
          f"with 2 000 attached, the user's third {large_third * 1000:.2f} ms: {third:.2f}x; "
          f"{demo_last * 1000:.2f} ms vs 2 000 with the user's last {large_last * 1000:.2f} ms: {last:.2f}x")
    print(f"scale_ratio_3={r_small:.3f} scale_ratio_20000={r_large:.3f} org_reload_ms={med(org_costs) * 1000:.2f} "
          f"env_reload_ms={med(env_costs) * 1000:.2f} "
          f"login_flow_2000_ratio={third:.2f} login_flow_2000_last_ratio={last:.2f}")

if __name__ == "__main__":
    main()
