"""Fixtures every folder needs: fresh state per test, a movable clock, the domain's small
factories, the seeded demo, and on-commit callbacks run as a commit would run them.

Each folder's own fixtures are in its conftest.py; helpers that are not fixtures are in
tests/support/ and are imported by name."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from mfa_policies import clock as clock_module
from mfa_policies import constants as c

_counter = itertools.count(1)


class Clock:
    """The server clock, frozen; tests move it with :meth:`advance` or :meth:`set`."""

    def __init__(self, start: dt.datetime):
        self.now = start
        clock_module.freeze(start)

    def set(self, at: dt.datetime) -> dt.datetime:
        self.now = at
        clock_module.freeze(at)
        return at

    def advance(self, **delta) -> dt.datetime:
        return self.set(self.now + dt.timedelta(**delta))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 at production cost makes every test user take ~0.3 s; tests don't measure hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_enforcement_state():
    """Each test starts with an empty cache and no mirror of the configuration in this process, as
    a new deployment would; nothing a previous test configured can leak into the next."""
    from django.core.cache import cache

    from mfa_policies.access import mirror

    cache.clear()
    mirror.reset()
    yield
    cache.clear()
    mirror.reset()


@pytest.fixture
def clock():
    c_ = Clock(dt.datetime(2026, 11, 22, 12, 0, 0, tzinfo=dt.timezone.utc))
    yield c_
    clock_module.freeze(None)


@pytest.fixture
def make_user(db):
    from accounts.models import User

    def make(email: str | None = None, password: str = "correct-horse-battery", **extra):
        email = email or f"user{next(_counter)}@example.test"
        return User.objects.create_user(email=email, password=password, **extra)

    return make


@pytest.fixture
def make_org(db):
    from mfa_policies.models import Organization

    def make(name: str | None = None, **fields):
        fields.setdefault("allowed_authenticators", [c.TOTP, c.SECURITY_KEY])
        org = Organization(name=name or f"Org {next(_counter)}", **fields)
        org.full_clean()
        org.save()
        return org

    return make


@pytest.fixture
def make_role(db):
    from mfa_policies.models import Role

    def make(key: str, name: str = ""):
        return Role.objects.get_or_create(key=key, defaults={"name": name or key.title()})[0]

    return make


@pytest.fixture
def make_connection(db):
    from mfa_policies.models import Connection

    def make(key: str, kind: str = c.CONNECTION_PASSWORD, **fields):
        return Connection.objects.get_or_create(key=key, defaults={"name": key.title(), "kind": kind, **fields})[0]

    return make


@pytest.fixture
def make_member(db):
    from mfa_policies.models import Membership

    def make(user, org, roles=()):
        membership, _ = Membership.objects.get_or_create(user=user, organization=org)
        membership.roles.set(roles)
        return membership

    return make


@pytest.fixture
def make_app(db):
    from mfa_policies.models import Application

    def make(org, name: str | None = None, **fields):
        app = Application(organization=org, name=name or f"App {next(_counter)}", **fields)
        app.full_clean()
        app.save()
        return app

    return make


@pytest.fixture
def make_policy(db):
    from mfa_policies.models import AppPolicy, Policy

    def make(org, name: str | None = None, *, apps=(), precedence: int | None = None, **fields):
        fields.setdefault("include", [{"selector": "everyone", "value": ""}])
        policy = Policy(organization=org, name=name or f"Policy {next(_counter)}", **fields)
        policy.full_clean()
        policy.save()
        for app in apps:
            p = precedence if precedence is not None else AppPolicy.objects.filter(application=app).count() + 1
            AppPolicy.objects.create(application=app, policy=policy, precedence=p)
        return policy

    return make


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run a block and then its on-commit callbacks, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def demo(db):
    """The seed_demo data (spec §3.5 precedence example)."""
    from mfa_policies.demo.seed import seed_demo

    return seed_demo()


@pytest.fixture
def private_redis(tmp_path):
    """A ``redis-server`` of this test's own on a free loopback port (never the shared one),
    stopped by its pid afterwards."""
    from tests.support.processes import RedisServer

    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()
