"""The Redis cache backend degrades instead of failing (SECURITY row 28): 250 ms timeouts, a circuit
breaker, a per-process fallback while Redis is unavailable — against a Redis of the test's own."""

from __future__ import annotations

import time

import pytest

from mfa_policies import cache_backends
from mfa_policies.cache_backends import REDIS_TIMEOUT, RedisCache


@pytest.fixture
def redis_cache(private_redis, monkeypatch):
    monkeypatch.setattr(cache_backends, "COOL_DOWN", 0.5)
    cache_backends._breakers.pop(private_redis.url, None)
    backend = RedisCache(private_redis.url, {})
    backend.breaker.cool_down = 0.5
    yield backend
    cache_backends._breakers.pop(private_redis.url, None)


def _timed(call):
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start


def test_values_live_in_redis_while_it_answers(redis_cache, private_redis):
    redis_cache.set("k", 41, 60)
    assert redis_cache.get("k") == 41 and redis_cache.incr("k") == 42
    assert private_redis.command("DBSIZE") == "1"
    assert redis_cache.publish("mfagate:test", "hello") is True
    assert redis_cache.breaker.closed


def test_redis_down_answers_from_the_fallback_without_raising(redis_cache, private_redis):
    redis_cache.set("k", "in redis", 60)
    private_redis.stop()
    value, took = _timed(lambda: redis_cache.get("k", "default"))
    assert value == "default" and took < 1.0  # refused at once; the breaker opens
    assert not redis_cache.breaker.closed
    assert redis_cache.add("lock", True, 10) is True  # allauth's rate-limit lock works per process
    assert redis_cache.add("lock", True, 10) is False
    _, took = _timed(lambda: redis_cache.get("anything"))
    assert took < 0.05  # open breaker: no network at all
    assert redis_cache.publish("mfagate:test", "x") is False


def test_a_frozen_redis_costs_one_timeout_then_nothing_until_the_probe(redis_cache, private_redis):
    redis_cache.set("k", 1, 60)
    private_redis.freeze()
    try:
        _, first = _timed(lambda: redis_cache.get("k"))
        assert first < REDIS_TIMEOUT * 2 + 0.2  # connect/socket timeouts of 250 ms, no retries
        _, second = _timed(lambda: redis_cache.set("k", 2, 60))
        assert second < 0.05
    finally:
        private_redis.thaw()


def test_the_breaker_closes_again_once_a_probe_succeeds(redis_cache, private_redis, tmp_path):
    from tests.support.processes import RedisServer

    port = private_redis.port
    private_redis.stop()
    assert redis_cache.get("k") is None and not redis_cache.breaker.closed
    again = RedisServer(tmp_path / "again", port=port).start()
    try:
        time.sleep(0.6)  # the cool-down
        redis_cache.set("k", "back", 60)
        assert redis_cache.breaker.closed
        assert again.command("DBSIZE") == "1"
    finally:
        again.stop()
