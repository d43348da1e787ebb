"""Revocation never fails open, proven under faults (issue 9, SECURITY rows 25 and 28).

Real gunicorn (two sync workers) serves the project against the test's PostgreSQL database and a
Redis of the test's own on a free port. A real HTTP client signs in through allauth's form, passes
the MFA challenge with a TOTP code and holds a live app session for Application A. Then, for each
fault, a revocation — the authenticator deleted by an admin, or the policy the user matched turned
to deny — and the client keeps requesting from several connections at once: every request that
started after the stated bound is refused, on both workers; never at the app session's expiry.

The bounds (README "Consistency model"): an authenticator removal — 0 (the user row, read on every
request); a configuration change — the next request while the channel is healthy or down, at most
:data:`~mfa_policies.access.channel.GRACE` after Redis froze, at most
:data:`~mfa_policies.access.mirror.LEASE` when no announcement reaches the workers (the writer died
after its commit, or announced on another Redis).

Measured figures go to ``test-artifacts/revocation-faults.json``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection

from mfa_policies import constants as c
from mfa_policies.access import channel as channel_module
from mfa_policies.access.channel import GRACE
from mfa_policies.access.mirror import LEASE
from tests.support.authenticators import enroll_totp, session_request
from tests.support.http import Browser
from tests.support.processes import ROOT, Gunicorn, RedisServer, SwitchableProxy

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.multiprocess,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="gunicorn's workers must share the test's database: the SQLite test database is in "
                              "this process's memory (run with DATABASE_URL=postgres://...; .ci/run does)"),
]

APP_PATH = "/demo/a/"
USER = "other@demo.test"
#: Scheduling slack on a busy 2-core machine, on top of each stated bound.
SLACK = 0.25
ARTIFACT = ROOT / "test-artifacts" / "revocation-faults.json"


def _record(name: str, data: dict) -> None:
    ARTIFACT.parent.mkdir(exist_ok=True)
    found = json.loads(ARTIFACT.read_text()) if ARTIFACT.exists() else {}
    found[name] = data
    ARTIFACT.write_text(json.dumps(found, indent=2, sort_keys=True))
    print(f"\n{name}: {json.dumps(data, sort_keys=True)}")


@pytest.fixture(scope="session")
def collected_static():
    """``collectstatic`` once, as ``make serve`` would (DEBUG off may serve hashed names)."""
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, check=True,
                   env={**_server_env("sqlite:////nonexistent", ""), "DATABASE_URL": "sqlite:///:memory:"})


def _jwt_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


_PEM = _jwt_pem()


def _server_env(database_url: str, redis_url: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MFAGATE_", "REDIS_", "DATABASE_"))}
    return {**env, "DEBUG": "false", "SECRET_KEY": "fault-tests-" + "x" * 50, "ALLOWED_HOSTS": "127.0.0.1",
            "SESSION_COOKIE_SECURE": "false", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
            "MFAGATE_JWT_PRIVATE_KEY": _PEM, "MFAGATE_LOG_LEVEL": "WARNING"}


class Stack:
    """The running system and the signed-in browser, with the revocations and the measurements."""

    def __init__(self, server: Gunicorn, browser: Browser, admin):
        self.server, self.browser, self.admin = server, browser, admin

    # --------------------------------------------------------------------------- revocations
    def delete_authenticator(self) -> float:
        """An admin deletes the user's only authenticator; returns when the deletion started."""
        from accounts.models import User
        from enrollment.flows import authenticator_delete_by_admin
        from enrollment.models import Authenticator

        authenticator = Authenticator.objects.get(user=User.objects.get(email=USER))
        started = time.monotonic()
        authenticator_delete_by_admin(request=session_request(self.admin), acting_user=self.admin,
                                      authenticator_id=authenticator.pk)
        return started

    def deny(self, decision: str = c.DENY) -> float:
        """The policy the user matched turns to ``decision`` (through the audited service)."""
        from mfa_policies.models import Policy
        from mfa_policies.services import configuration_save

        policy = Policy.objects.get(name="Everyone")
        policy.decision = decision
        started = time.monotonic()
        configuration_save(acting_user=self.admin, instance=policy)
        return started

    # -------------------------------------------------------------------------- measurement
    def hammer(self, seconds: float, clients: int = 4, until=None) -> list:
        """``clients`` connections of the browser session requesting Application A for ``seconds``
        (or until ``until(answers)`` holds)."""
        answers, lock, stop = [], threading.Lock(), threading.Event()
        deadline = time.monotonic() + seconds

        def run():
            browser = self.browser.copy()
            while not stop.is_set() and time.monotonic() < deadline:
                answer = browser.get(APP_PATH, timeout=10)
                with lock:
                    answers.append(answer)
                    if until is not None and until(answers):
                        stop.set()

        threads = [threading.Thread(target=run) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 15)
        return sorted(answers, key=lambda a: a.started)

    def until_every_worker_passes(self) -> None:
        answers = self.hammer(10, until=lambda got: len({a.worker for a in got if a.status == 200}) >= self.server.workers)
        passing = {a.worker for a in answers if a.status == 200}
        assert len(passing) >= self.server.workers, [(a.status, a.worker) for a in answers[-5:]]


def _refused(answer, expected: str) -> bool:
    if expected == "enroll":
        return answer.status == 302 and answer.location.startswith("/AddMfaDevice")
    return answer.status == 403


def _verdict(answers, *, since: float, bound: float, expected: str, workers: int) -> dict:
    """Every request started more than ``bound`` after ``since`` is refused, by every worker; the
    figures: how many still passed, and when each worker first refused (answer read, seconds)."""
    late = [a for a in answers if a.started > since + bound]
    assert late, "no request was made after the bound"
    wrong = [(round(a.started - since, 3), a.status, a.location, a.worker) for a in late if not _refused(a, expected)]
    assert not wrong, f"passed after the bound of {bound} s: {wrong[:5]}"
    first = {}
    for a in answers:
        if _refused(a, expected) and a.worker not in first:
            first[a.worker] = round(a.started + a.took - since, 3)
    assert len(first) >= workers, f"only workers {sorted(first)} refused"
    passed_after = [a for a in answers if a.started > since and a.status == 200]
    slow = max(a.took for a in answers)
    return {"bound_s": bound, "requests": len(answers), "passed_after_change": len(passed_after),
            "last_pass_started_after_s": round(max((a.started - since for a in passed_after), default=0.0), 3),
            "first_refusal_per_worker_s": sorted(first.values()), "slowest_answer_s": round(slow, 3)}


@pytest.fixture
def serve(transactional_db, tmp_path, settings, collected_static):
    """``serve(workers_redis_url=None, writer_redis_url=None)`` → a :class:`Stack`: a private Redis
    (unless URLs are given), the demo, gunicorn, and a browser holding a live app session."""
    started: list = []

    def build(*, workers_redis_url: str | None = None, writer_redis_url: str | None = None,
              redis: RedisServer | None = None) -> Stack:
        from accounts.models import User
        from mfa_policies.demo.seed import seed_demo

        if workers_redis_url is None:
            redis = redis or RedisServer(tmp_path / "redis").start()
            started.append(redis)
            workers_redis_url = redis.url
        # This process is the admin's: its announcements go to the Redis it is told to use.
        settings.CACHES = {"default": {"BACKEND": "mfa_policies.cache_backends.RedisCache",
                                       "LOCATION": writer_redis_url or workers_redis_url}}
        seed_demo()
        # The server checks passwords with the production hasher (this process's tests use MD5).
        settings.PASSWORD_HASHERS = [*settings.PASSWORD_HASHERS, "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
        for email in (USER, "p2@demo.test"):
            User.objects.filter(email=email).update(password=make_password("demo-password", hasher="pbkdf2_sha256"))
        _, otp = enroll_totp(User.objects.get(email=USER))
        db = connection.settings_dict
        database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        server = Gunicorn(_server_env(database_url, workers_redis_url), workers=2,
                          log_path=tmp_path / "gunicorn.log").start()
        started.append(server)
        browser = Browser(server.base)
        signed_in = browser.post_form("/accounts/login/", {"login": USER, "password": "demo-password"})
        assert signed_in.status == 302, (signed_in.status, signed_in.body[:300])
        challenge = browser.get(APP_PATH)
        assert challenge.status == 302 and challenge.location.startswith("/mfa/verify/"), challenge
        verified = browser.post_form("/mfa/verify/", {"code": otp.now()}, page=challenge.location)
        assert verified.status == 302 and verified.location == APP_PATH, (verified.status, verified.body[:300])
        stack = Stack(server, browser, User.objects.get(email="admin@demo.test"))
        stack.until_every_worker_passes()
        return stack

    yield build
    for process in reversed(started):
        process.stop()
    channel_module.reset()  # this process's own listener, if the writer started one


# ------------------------------------------------------------------------------------ the faults
def test_a_change_while_redis_is_down_is_refused_on_the_next_request(serve, tmp_path):
    redis = RedisServer(tmp_path / "redis").start()
    stack = serve(redis=redis)
    redis.stop()
    since = stack.delete_authenticator()
    removed = _verdict(stack.hammer(1.5), since=since, bound=0.0, expected="enroll", workers=2)
    # and signing in still works meanwhile (allauth's rate limits count per worker)
    other = Browser(stack.server.base)
    signed_in = other.post_form("/accounts/login/", {"login": "p2@demo.test", "password": "demo-password"})
    assert signed_in.status == 302 and signed_in.took < 5.0  # no hang: each cache call gives up at 250 ms
    _record("redis_down", {"authenticator_deleted": removed, "sign_in_while_down_s": round(signed_in.took, 3)})


def test_redis_restored_from_an_older_snapshot_changes_nothing(serve, tmp_path):
    redis = RedisServer(tmp_path / "redis").start()
    stack = serve(redis=redis)
    snapshot = redis.save()  # taken while the app session was live
    redis.stop()
    since = stack.delete_authenticator()  # the failure: deleted while Redis was down …
    redis.start(from_snapshot=snapshot)   # … then Redis back from its older snapshot
    removed = _verdict(stack.hammer(1.5), since=since, bound=0.0, expected="enroll", workers=2)
    assert removed["passed_after_change"] == 0
    _record("redis_restored_from_older_snapshot", {"authenticator_deleted": removed})


def test_redis_flushed_changes_nothing(serve, tmp_path):
    redis = RedisServer(tmp_path / "redis").start()
    stack = serve(redis=redis)
    assert redis.command("FLUSHALL") == "OK"
    since = stack.deny()
    denied = _verdict(stack.hammer(1.5), since=since, bound=0.0, expected="deny", workers=2)
    _record("redis_flushed", {"policy_denied": denied})


def test_a_frozen_redis_is_distrusted_within_its_grace_and_slows_nothing_down(serve, tmp_path):
    redis = RedisServer(tmp_path / "redis").start()
    stack = serve(redis=redis)
    redis.freeze()
    try:
        frozen_at = time.monotonic()
        stack.deny()  # its announcement times out (250 ms): nobody hears it
        answers = stack.hammer(GRACE + 1.5)
        denied = _verdict(answers, since=frozen_at, bound=GRACE + SLACK, expected="deny", workers=2)
        assert denied["slowest_answer_s"] < 1.0
        stack.deny(c.ALLOW)
        since = stack.delete_authenticator()
        removed = _verdict(stack.hammer(1.0), since=since, bound=0.0, expected="enroll", workers=2)
    finally:
        redis.thaw()
    _record("redis_frozen", {"policy_denied_since_freeze": denied, "authenticator_deleted": removed})


def test_a_change_committed_but_never_announced_is_seen_within_the_lease(serve, monkeypatch):
    """A worker dying between its commit and its announcement: the change is in the database, no
    announcement ever goes out."""
    from mfa_policies import generation

    stack = serve()
    monkeypatch.setattr(generation, "announce", lambda value: None)
    since = stack.deny()
    answers = stack.hammer(LEASE + 1.5)
    denied = _verdict(answers, since=since, bound=LEASE + SLACK, expected="deny", workers=2)
    _record("committed_never_announced", {"policy_denied": denied})


def test_a_switch_to_another_redis_is_seen_within_the_lease(serve, tmp_path):
    """The workers still hear the old Redis (their connections survive the switch); the admin's
    process announces on the new one: split brain, bounded by the lease. With the old connections
    cut, the workers resubscribe — a new epoch — and ask the database at once."""
    old = RedisServer(tmp_path / "old").start()
    new = RedisServer(tmp_path / "new").start()
    proxy = SwitchableProxy(old.port)
    try:
        stack = serve(workers_redis_url=proxy.url, writer_redis_url=new.url)
        proxy.switch(new.port, cut=False)
        since = stack.deny()
        split = _verdict(stack.hammer(LEASE + 1.5), since=since, bound=LEASE + SLACK, expected="deny", workers=2)
        stack.deny(c.ALLOW)
        stack.until_every_worker_passes()
        proxy.switch(old.port, cut=True)  # and back, cutting every connection
        since = stack.deny()
        cut = _verdict(stack.hammer(LEASE + 1.5), since=since, bound=LEASE + SLACK, expected="deny", workers=2)
    finally:
        proxy.stop()
        old.stop()
        new.stop()
    _record("switch_to_another_redis", {"connections_kept_split_brain": split, "connections_cut": cut})


# ----------------------------------------------------------------------- revocation latency
def test_revocation_reaches_every_worker_within_a_second(serve):
    """Healthy Redis: per worker, the time to its first refused answer — from the start of the
    change (validation, audit, commit, announcement included) and from the moment the change's
    call returned (committed and announced) — over repeated trials."""
    stack = serve()
    from_start, from_commit = [], []
    for _ in range(15):
        since = stack.deny()
        committed = time.monotonic()
        answers = stack.hammer(3.0, until=lambda got: len({a.worker for a in got if a.status == 403}) >= 2)
        first = {}
        for a in answers:
            if a.status == 403 and a.worker not in first:
                first[a.worker] = a.started + a.took
        assert len(first) == 2
        from_start.extend(t - since for t in first.values())
        from_commit.extend(max(0.0, t - committed) for t in first.values())
        stack.deny(c.ALLOW)
        stack.until_every_worker_passes()

    def figures(values):
        values = sorted(values)
        return {"min_ms": round(values[0] * 1000, 1), "median_ms": round(statistics.median(values) * 1000, 1),
                "p90_ms": round(values[int(len(values) * 0.9)] * 1000, 1), "max_ms": round(values[-1] * 1000, 1)}

    _record("revocation_latency_across_workers", {"trials": 15, "samples": len(from_start),
                                                  "from_start_of_change": figures(from_start),
                                                  "from_commit_returned": figures(from_commit)})
    assert max(from_start) < 1.0
