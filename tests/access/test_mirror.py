"""The mirror of the configuration: trusted without any I/O only while the channel vouches, nothing
was announced and the lease runs; otherwise the database is asked first — so a lost channel means a
database read per request (fail closed), and an announcement that never came is made up for by the
lease. The Redis channel runs against a Redis of the test's own."""

from __future__ import annotations

import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from mfa_policies import generation
from mfa_policies.access import channel as channel_module
from mfa_policies.access import mirror
from mfa_policies.access.channel import GRACE, RedisChannel
from mfa_policies.cache_backends import RedisCache


class LeaseClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def lease_clock(monkeypatch):
    clock = LeaseClock()
    monkeypatch.setattr(mirror, "_monotonic", clock)
    return clock


def _queries(call):
    with CaptureQueriesContext(connection) as ctx:
        result = call()
    return result, len(ctx.captured_queries)


def _change_without_announcement(org):
    """A change committed by a process that died before announcing it: recorded, never announced."""
    with transaction.atomic():
        generation.ConfigurationGeneration.objects.update_or_create(scope=generation.GLOBAL, defaults={"generation": 10**6})
        generation.ConfigurationGeneration.objects.update_or_create(
            scope=generation.organization_scope(org.pk), defaults={"generation": 10**6})


def test_a_trusted_table_costs_no_query(db, make_org, make_app, lease_clock):
    make_app(make_org(), path_prefixes=["/a/"])
    _, first = _queries(mirror.table)
    assert first == 3  # the generation, then the applications and their organizations' names
    for _ in range(5):
        table, n = _queries(mirror.table)
        assert n == 0 and table.match("/a/x")


def test_this_process_announcement_makes_the_next_request_ask_the_database(db, make_org, make_app, make_user,
                                                                            lease_clock, run_on_commit):
    from mfa_policies.services import configuration_save

    org = make_org()
    app = make_app(org, path_prefixes=["/a/"])
    mirror.table()
    app.path_prefixes = ["/b/"]
    with run_on_commit():
        configuration_save(acting_user=make_user(), instance=app)
    table, n = _queries(mirror.table)
    assert n == 3  # what changed (one organization), then its applications (and its name)
    assert table.match("/a/x") is None and table.match("/b/x").id == app.pk
    assert mirror.last_refresh()[1] == "organizations"
    assert _queries(mirror.table)[1] == 0


def test_an_announcement_that_never_came_is_seen_when_the_lease_ends(db, make_org, make_app, lease_clock):
    org = make_org()
    app = make_app(org, path_prefixes=["/a/"])
    mirror.table()
    type(app).objects.filter(pk=app.pk).update(path_prefixes=["/b/"])
    _change_without_announcement(org)
    lease_clock.now += mirror.LEASE - 0.01
    assert mirror.table().match("/a/x") is not None  # within the bound: still the old table
    lease_clock.now += 0.02
    table, n = _queries(mirror.table)
    assert n == 3 and table.match("/b/x").id == app.pk


def test_a_database_behind_the_table_means_a_full_reload(db, make_org, make_app, lease_clock):
    """Restored from a backup, or flushed: the generation went backwards."""
    app = make_app(make_org(), path_prefixes=["/a/"])
    generation.ConfigurationGeneration.objects.create(scope=generation.GLOBAL, generation=50)
    mirror.table()
    generation.ConfigurationGeneration.objects.all().delete()
    type(app).objects.filter(pk=app.pk).delete()
    mirror.invalidate()
    assert mirror.table().match("/a/x") is None and mirror.last_refresh()[1] == "full"


def test_an_environment_wide_change_keeps_the_table_and_moves_its_environment_generation(
        db, make_org, make_app, make_user, lease_clock, run_on_commit):
    from mfa_policies.models import Environment
    from mfa_policies.services import configuration_save

    app = make_app(make_org(), path_prefixes=["/a/"])
    before = mirror.table()
    env = Environment.load()
    env.mfa_requirement = "yes"
    env.allowed_authenticators = ["totp"]
    with run_on_commit():
        configuration_save(acting_user=make_user(), instance=env)
    table, n = _queries(mirror.table)
    assert n == 1  # what changed: nothing but the environment generation
    assert mirror.last_refresh()[1] == "environment"
    assert table.environment_generation == generation.configuration_state()[1] > before.environment_generation
    assert table.apps is before.apps and table.match("/a/x").config_version == app.config_version


# ------------------------------------------------------------------------------- Redis channel
@pytest.fixture
def redis_channel(private_redis, monkeypatch):
    backend = RedisCache(private_redis.url, {})
    ch = RedisChannel(backend.invalidation_connection, name=private_redis.url).start()
    monkeypatch.setattr(channel_module, "_channel", ch)
    assert ch.wait_until_vouching(5)
    yield ch
    ch.stop()


def _wait(predicate, timeout=3.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def test_an_announcement_reaches_the_channel_in_milliseconds(redis_channel, private_redis):
    before = redis_channel.notices
    start = time.monotonic()
    assert private_redis.command("PUBLISH", generation.CHANNEL, "7") == "1"
    assert _wait(lambda: redis_channel.notices > before, 1.0)
    assert time.monotonic() - start < 0.5


def test_redis_stopped_the_channel_stops_vouching_at_once_and_reconnects_as_a_new_epoch(
        redis_channel, private_redis, tmp_path):
    from tests.support.processes import RedisServer

    epoch = redis_channel.epoch
    private_redis.stop()
    assert _wait(lambda: not redis_channel.vouches(time.monotonic()), 0.5)
    again = RedisServer(tmp_path / "again", port=private_redis.port).start()
    try:
        assert redis_channel.wait_until_vouching(3)
        assert redis_channel.epoch == epoch + 1
    finally:
        again.stop()


def test_a_frozen_redis_stops_the_channel_vouching_within_its_grace(redis_channel, private_redis):
    private_redis.freeze()
    try:
        start = time.monotonic()
        assert _wait(lambda: not redis_channel.vouches(time.monotonic()), GRACE + 0.5)
        assert time.monotonic() - start <= GRACE + 0.05
    finally:
        private_redis.thaw()
    assert redis_channel.wait_until_vouching(3)


def test_while_the_channel_is_down_every_request_asks_the_database(db, make_org, make_app, redis_channel,
                                                                   private_redis):
    org = make_org()
    app = make_app(org, path_prefixes=["/a/"])
    mirror.table()
    assert _queries(mirror.table)[1] == 0
    private_redis.stop()
    assert _wait(lambda: not redis_channel.vouches(time.monotonic()), 0.5)
    for _ in range(3):
        assert _queries(mirror.table)[1] == 1  # what changed since? nothing — but asked
    type(app).objects.filter(pk=app.pk).update(path_prefixes=["/b/"])
    _change_without_announcement(org)
    assert mirror.table().match("/b/x").id == app.pk  # seen by the very next request
