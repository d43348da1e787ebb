"""Benchmark: what one page of the REST API's lists costs at 100 000 users, on PostgreSQL.

Run: ``.venv/bin/python bench/api_lists.py`` with ``BENCH_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/h_api``; the database is migrated and, once, filled with
``BENCH_USERS`` members — default 100 000 — a fifth of them with an MFA device, plus 1 000
applications and policies; a later run reuses them). Each case is requested ``BENCH_REPEAT`` times
(default 30) through Django's test client in this process, after a warm-up; it prints, per case,
the wall time (median, min–max, p90), the body's bytes, the peak Python memory one request
allocates (tracemalloc) and the number of SQL queries. Nothing listens on a port.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import tracemalloc
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
USERS = int(os.environ.get("BENCH_USERS", "100000"))
APPS = int(os.environ.get("BENCH_APPS", "1000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/h_api")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402
from api.models import ApiToken  # noqa: E402
from api.services import api_token_create  # noqa: E402
from enrollment.models import Authenticator  # noqa: E402
from mfa_policies import clock  # noqa: E402
from mfa_policies.models import AppPolicy, Application, Membership, Organization, Policy  # noqa: E402

ORG_NAME = "Bench organization"
BATCH = 5000


def fill() -> Organization:
    org = Organization.objects.filter(name=ORG_NAME).first()
    if org is not None and Membership.objects.filter(organization=org).count() == USERS:
        return org
    print(f"filling {USERS} users, {APPS} applications and policies …", flush=True)
    with transaction.atomic():
        Organization.objects.filter(name=ORG_NAME).delete()
        User.objects.filter(email__endswith="@bench.test").delete()
        org = Organization.objects.create(name=ORG_NAME, allowed_authenticators=["totp", "security_key"])
        now = clock.now()
        for start in range(0, USERS, BATCH):
            users = User.objects.bulk_create(
                User(email=f"user{i:06d}@bench.test", name=f"User {i:06d}", password="!") for i in
                range(start, min(start + BATCH, USERS)))
            Membership.objects.bulk_create(Membership(user=user, organization=org) for user in users)
            Authenticator.objects.bulk_create(
                Authenticator(user=user, kind="security_key", name="Key", credential_id=uuid.uuid4().hex,
                              public_key=b"k", created_at=now) for user in users[::5])
        policies = Policy.objects.bulk_create(Policy(organization=org, name=f"Policy {i:04d}", include=[
            {"selector": "everyone", "value": ""}]) for i in range(APPS))
        apps = Application.objects.bulk_create(Application(organization=org, name=f"App {i:04d}",
                                                           path_prefixes=[f"/bench/{i}/"]) for i in range(APPS))
        AppPolicy.objects.bulk_create(AppPolicy(application=a, policy=p, precedence=1) for a, p in zip(apps, policies))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return org


def token_for(org: Organization) -> str:
    admin = User.objects.filter(email="bench-admin@bench.test").first() or User.objects.create_superuser(
        "bench-admin@bench.test", None)
    ApiToken.objects.filter(organization=org).delete()
    _, plaintext = api_token_create(acting_user=admin, token=ApiToken(
        name="bench", owner=admin, organization=org, scopes=["users:read", "apps_policies:read"]))
    return plaintext


def measure(client: Client, url: str, headers: dict) -> dict:
    for _ in range(3):
        assert client.get(url, **headers).status_code == 200, url
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        response = client.get(url, **headers)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    times.sort()
    return {"median_ms": statistics.median(times) * 1000, "min_ms": times[0] * 1000, "max_ms": times[-1] * 1000,
            "p90_ms": times[int(len(times) * 0.9) - 1] * 1000, "bytes": len(response.content), "peak_kib": peak / 1024,
            "queries": len(queries), "count": response.json()["result_info"]["count"]}


def main() -> None:
    call_command("migrate", verbosity=0)
    org = fill()
    settings.DEBUG = False
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(org)}"}
    base = f"/client/v4/accounts/{org.account_id}/"
    last = -(-USERS // 1000)
    cases = [
        ("users, page 1, per_page 25 (the default)", "access/users"),
        ("users, page 1, per_page 1000", "access/users?per_page=1000"),
        (f"users, page {last // 2}, per_page 1000", f"access/users?per_page=1000&page={last // 2}"),
        (f"users, last page ({last}), per_page 1000", f"access/users?per_page=1000&page={last}"),
        ("users, email=<one address>", f"access/users?email=user{USERS // 2:06d}@bench.test"),
        ("users, search=<part of a name>", "access/users?search=User 0424"),
        (f"apps ({APPS}), per_page 1000", "access/apps?per_page=1000"),
        (f"policies ({APPS}), per_page 1000", "access/policies?per_page=1000"),
    ]
    print(f"{USERS} users, {REPEAT} requests a case, PostgreSQL {connection.pg_version // 10000}")
    print(f"{'case':45} {'rows':>5} {'median ms':>10} {'min–max ms':>16} {'p90 ms':>8} {'bytes':>9} "
          f"{'peak KiB':>9} {'queries':>7}")
    for label, path in cases:
        r = measure(client, base + path, headers)
        print(f"{label:45} {r['count']:>5} {r['median_ms']:>10.1f} {r['min_ms']:>7.1f}–{r['max_ms']:<8.1f} "
              f"{r['p90_ms']:>8.1f} {r['bytes']:>9} {r['peak_kib']:>9.0f} {r['queries']:>7}", flush=True)


if __name__ == "__main__":
    main()
