"""Benchmark: the runtime at scale — the hot path at 3 and at 20 000 applications, what one
organization's change costs a process holding 20 000, and the login flow with 2 000 policies.

Run: ``.venv/bin/python bench/runtime_scale.py`` (``BENCH_REDIS_URL=redis://127.0.0.1:<port>/0`` for
Redis). Uses ``bench/enforcement.py``'s database, demo and timing (imported, unchanged). Prints one
line per figure and, last, ``scale_ratio_3=<x> scale_ratio_20000=<y> org_reload_ms=<median>
login_flow_2000_ratio=<z>``.
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


def full_reload_cost() -> float:
    from mfa_policies.access import mirror

    start = time.perf_counter()
    mirror.reset()
    mirror.table()
    return time.perf_counter() - start


def login_flow_times(client: Client, flows: int = FLOWS) -> list[float]:
    times = []
    for _ in range(flows):
        session = client.session
        session.pop("mfagate.apps", None)
        session.save()
        start = time.perf_counter()
        assert client.get(base.VIEW_PATH).status_code == 200
        times.append(time.perf_counter() - start)
    return times


def attach_policies(count: int, *, before: bool) -> None:
    """``count`` more policies on Application A that the user does not match — after its own
    (``before=False``: the resolver stops at the user's policy) or before them (the resolver tries
    every one first)."""
    from mfa_policies.models import AppPolicy, Application, Organization, Policy
    from mfa_policies.services import configuration_changed

    org = Organization.objects.get(name="Demo")
    app = Application.objects.get(name="Application A")
    tag = "pre" if before else "post"
    policies = Policy.objects.bulk_create([
        Policy(organization=org, name=f"bench {tag} {i}", include=[{"selector": "email", "value": f"{tag}{i}@bench.test"}])
        for i in range(count)])
    links = list(AppPolicy.objects.filter(application=app).order_by("precedence"))
    if before:
        for link in links:
            link.precedence += 100_000
        AppPolicy.objects.bulk_update(links, ["precedence"])
        start = 1
    else:
        start = links[-1].precedence + 1
    AppPolicy.objects.bulk_create([AppPolicy(application=app, policy=p, precedence=start + i) for i, p in enumerate(policies)])
    with transaction.atomic():
        configuration_changed(application_ids=[app.pk])


def main():
    setup_test_environment()
    with override_settings(ROOT_URLCONF="bench_urls", ALLOWED_HOSTS=["testserver"], DEBUG=False):
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
        flows_demo = login_flow_times(with_mw)

        small_org = add_applications(APPS)
        apps_large = Application.objects.count()
        assert with_mw.get(base.VIEW_PATH).status_code == 200  # the table reloaded, the session still live
        r_large, w_large, wo_large = ratio(with_mw, without_mw)
        org_costs = organization_change_cost(small_org)
        full = full_reload_cost()

        attach_policies(2000 - 3, before=False)
        login_flow_times(with_mw, 1)  # the configuration input is built once per generation
        flows_after = login_flow_times(with_mw)
        attach_policies(2000, before=True)
        login_flow_times(with_mw, 1)  # the configuration input is built once per generation
        flows_before = login_flow_times(with_mw)

    med = statistics.median
    print(f"cache: {settings.CACHES['default']['BACKEND']}; {N} requests each, alternating")
    print(f"hot path at {apps_small} applications: with {w_small:.1f} us, without {wo_small:.1f} us, ratio {r_small:.3f}")
    print(f"hot path at {apps_large} applications: with {w_large:.1f} us, without {wo_large:.1f} us, ratio {r_large:.3f}")
    print(f"one organization's change at {apps_large} applications, next request's refresh: "
          f"median {med(org_costs) * 1000:.2f} ms, max {max(org_costs) * 1000:.2f} ms ({len(org_costs)} changes)")
    print(f"full reload of {apps_large} applications: {full * 1000:.0f} ms")
    demo_ms, after_ms, before_ms = med(flows_demo) * 1000, med(flows_after) * 1000, med(flows_before) * 1000
    print(f"login flow (median of {FLOWS}): demo (3 policies) {demo_ms:.2f} ms; 2 000 policies after the user's "
          f"{after_ms:.2f} ms ({after_ms / demo_ms:.2f}x); 2 000 more before them (4 000, tried first) "
          f"{before_ms:.2f} ms ({before_ms / demo_ms:.2f}x)")
    print(f"scale_ratio_3={r_small:.3f} scale_ratio_20000={r_large:.3f} org_reload_ms={med(org_costs) * 1000:.2f} "
          f"login_flow_2000_ratio={after_ms / demo_ms:.2f}")


if __name__ == "__main__":
    main()
