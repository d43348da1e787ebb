"""Benchmark: every admin page at scale on PostgreSQL — for each registered ModelAdmin its
changelist, the change page of its heaviest row (``mfa_policies.demo.scale.sample_object``: the
application with 2 000 attached policies, the first organization, …) and its add page, plus a few
filtered and searched lists.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/<database> .venv/bin/python bench/admin_pages.py``
(PostgreSQL on a loopback address only). It migrates the database and, when it holds no
seed_scale data yet, runs ``manage.py seed_scale`` (issue 8's sizes; ~1 minute), so give it a
database of its own: seed_scale refuses one with other data. It adds a superuser to sign in with
(``bench-admin@bench.scale.invalid``, no password) and API tokens, which seed_scale cannot write.

Per page: one untimed request counting the queries and the bytes, then ``BENCH_N`` (default 5)
timed requests, or 3 when the first took over 3 s; prints the median and the spread (min–max).
Timings are for reading, never asserted (the query bounds are: tests/admin/test_admin_query_counts.py).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
N = int(os.environ.get("BENCH_N", "5"))
SLOW_SECONDS = 3.0
LOOPBACK = {"127.0.0.1", "localhost", "::1", ""}


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit("bench/admin_pages.py: set DATABASE_URL to a PostgreSQL database of its own, "
                 "e.g. postgres://postgres@127.0.0.1:5432/mfagate_bench")
    if (parts.hostname or "") not in LOOPBACK:
        sys.exit(f"bench/admin_pages.py: {parts.hostname} is not a loopback address; the benchmark writes load data")
    return url


os.environ["DATABASE_URL"] = _database_url()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.contrib import admin  # noqa: E402
from django.contrib.admin.utils import quote  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402

from mfa_policies.demo import scale  # noqa: E402
from mfa_policies.models import Application, Organization  # noqa: E402

ADMIN_EMAIL = "bench-admin@bench.scale.invalid"


def prepare() -> Client:
    call_command("migrate", verbosity=0, interactive=False)
    if not scale.used_prefixes() - {"bench"}:
        call_command("seed_scale", stdout=sys.stdout)
    User = get_user_model()
    user = User.objects.filter(email=ADMIN_EMAIL).first() or User.objects.create_superuser(email=ADMIN_EMAIL)
    _api_tokens(owner=user)
    client = Client()
    client.force_login(user)
    return client


def _api_tokens(*, owner, n: int = 1_000):
    from api.models import ApiToken, hash_token

    from mfa_policies import clock

    if ApiToken.objects.exists():
        return
    orgs = list(Organization.objects.order_by("pk").values_list("pk", flat=True)[:n])
    ApiToken.objects.bulk_create([
        ApiToken(name=f"Bench token {i}", key_id=f"bench{i:07d}", secret_hash=hash_token(f"bench-{i}"), owner=owner,
                 organization_id=org, scopes=["organizations:read"], created_at=clock.now())
        for i, org in enumerate(orgs)])


def pages() -> list[tuple[str, str]]:
    """(label, path) of every page measured."""
    out = []
    for model, model_admin in admin.site._registry.items():
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        label = model._meta.label_lower
        out.append((f"{label} changelist", reverse(f"admin:{info}_changelist")))
        obj = scale.sample_object(model)
        if obj is not None:
            out.append((f"{label} change ({str(obj)[:30]})", reverse(f"admin:{info}_change", args=[quote(obj.pk)])))
        try:
            out.append((f"{label} add", reverse(f"admin:{info}_add")))
        except NoReverseMatch:
            pass
    org = scale.sample_object(Organization)
    for model in (Application, "policy", "membership", "aaguidlist"):
        name = model if isinstance(model, str) else model._meta.model_name
        base = reverse(f"admin:mfa_policies_{name}_changelist")
        out.append((f"mfa_policies.{name} changelist, one organization",
                    f"{base}?{urlencode({'organization__id__exact': org.pk})}"))
    out.append(("mfa_policies.application changelist, typed organization",
                f"{reverse('admin:mfa_policies_application_changelist')}?{urlencode({'organization': org.name})}"))
    out.append(("mfa_policies.application changelist, search",
                f"{reverse('admin:mfa_policies_application_changelist')}?q=App+1"))
    return out


def measure(client: Client, path: str) -> tuple[int, int, int, list[float]] | None:
    reset_queries()  # the log holds 9 000 queries at most: a full one counts nothing new
    with CaptureQueriesContext(connection) as queries:
        first_started = time.perf_counter()
        response = client.get(path)
        first = time.perf_counter() - first_started
    query_count = len(queries.captured_queries)  # now: the next request's request_started clears the log
    if response.status_code == 403 and path.endswith("/add/"):
        return None  # this admin has no add page (the audit log)
    if response.status_code not in (200, 302):
        raise SystemExit(f"{path}: {response.status_code}")
    if response.status_code == 302 and "/mfa/" in response["Location"]:
        raise SystemExit(f"{path}: sent to the MFA challenge — an application (the demo's Admin console?) "
                         "covers /admin/; run on a database without the demo")
    runs = N if first < SLOW_SECONDS else min(N, 3)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - started)
    return response.status_code, query_count, len(response.content), times


def main():
    warnings.filterwarnings("ignore", "No directory at", UserWarning)  # whitenoise, before collectstatic
    client = prepare()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    counts = {m._meta.label_lower: m._default_manager.count() for m in admin.site._registry}
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs; "
          f"PostgreSQL {version}; rows: " + ", ".join(f"{label} {n}" for label, n in counts.items()))
    print(f"{'page':<62} {'median':>9} {'spread (min–max)':>19} {'queries':>7} {'bytes':>9}")
    worst_queries = worst_bytes = 0
    with override_settings(DEBUG=False):
        client.get(reverse("admin:index"))  # the in-process application table, loaded once
        for label, path in pages():
            measured = measure(client, path)
            if measured is None:
                continue
            status, queries, size, times = measured
            worst_queries, worst_bytes = max(worst_queries, queries), max(worst_bytes, size)
            ms = [t * 1000 for t in times]
            note = " (redirect)" if status == 302 else ""
            print(f"{label[:62]:<62} {statistics.median(ms):7.0f}ms {min(ms):8.0f}–{max(ms):.0f}ms"
                  f"{'':>3} {queries:>7} {size / 1024:7.0f}KB{note}  n={len(ms)}", flush=True)
    print(f"max_queries={worst_queries} max_kb={worst_bytes / 1024:.0f}")


if __name__ == "__main__":
    main()
