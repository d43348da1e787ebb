"""Cache backends: Django's own, without the memcached key warnings, and a Redis one that degrades.

Django's ``BaseCache.validate_key`` walks every character of every key to warn about keys
memcached would reject; mfagate runs on local memory or Redis, whose keys have no such limits.

:class:`RedisCache` is what production uses (``REDIS_URL``). Nothing mfagate trusts for a security
decision lives in it (see :mod:`mfa_policies.generation`); what does — allauth's rate limits and
its used-ID-token list, sign-in by code — must keep working when Redis does not:

- **timeouts**: connecting and every socket read or write give up after :data:`REDIS_TIMEOUT`
  (250 ms), with no retry, so a frozen Redis costs a request a quarter of a second, not 20;
- **a circuit breaker** (:class:`CircuitBreaker`, one per Redis server and process): the first
  failure opens it for :data:`COOL_DOWN` seconds, during which calls do not touch the network at
  all; then one call probes, and its success closes it again;
- **a per-process fallback** while it is open: calls go to a local-memory cache instead of failing.
  Rate limits then count per worker process (weaker by the number of workers, never off) and
  start from zero; that is the trade for "signing in still works" (README "Consistency model").

It also carries the configuration announcements (:meth:`RedisCache.publish`) and opens the
connection the runtime listens to them on (:meth:`RedisCache.invalidation_connection`).
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from django.core.cache.backends.locmem import LocMemCache as DjangoLocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger("mfagate.cache")

#: Connect and socket timeouts for every Redis call, in seconds.
REDIS_TIMEOUT = 0.25
#: How long an open breaker sends calls to the fallback before probing Redis again, in seconds.
COOL_DOWN = 2.0
#: What counts as "Redis is unavailable" (connection refused or reset, timeouts, a server still
#: loading its snapshot, a read-only replica after a failover, …).
REDIS_ERRORS = (redis.exceptions.RedisError, OSError)


class _NoMemcachedKeyWarnings:
    def validate_key(self, key):
        pass


class LocMemCache(_NoMemcachedKeyWarnings, DjangoLocMemCache):
    pass


class CircuitBreaker:
    """Closed: calls go through. :meth:`failure` opens it for ``cool_down`` seconds, in which
    :meth:`allow` says no; after that one caller at a time is allowed to probe (half-open), and its
    :meth:`success` closes the breaker. Thread-safe; one per Redis server per process."""

    def __init__(self, name: str, cool_down: float = COOL_DOWN):
        self.name, self.cool_down = name, cool_down
        self._lock = threading.Lock()
        self._open_until = 0.0  # 0: closed
        self._probing = False

    @property
    def closed(self) -> bool:
        return self._open_until == 0.0

    def allow(self) -> bool:
        if self._open_until == 0.0:
            return True
        with self._lock:
            if self._open_until == 0.0:
                return True
            if time.monotonic() < self._open_until or self._probing:
                return False
            self._probing = True
            return True

    def success(self) -> None:
        if self._open_until == 0.0:
            return
        with self._lock:
            if self._open_until:
                log.warning("Redis %s answers again; the circuit breaker is closed", self.name)
            self._open_until, self._probing = 0.0, False

    def failure(self, exc: BaseException) -> None:
        with self._lock:
            was_closed = self._open_until == 0.0
            self._open_until, self._probing = time.monotonic() + self.cool_down, False
        if was_closed:
            log.error("Redis %s is unavailable (%s: %s); using the per-process fallback, probing again "
                      "every %.0f s", self.name, type(exc).__name__, exc, self.cool_down)


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(name: str) -> CircuitBreaker:
    """The process's breaker for Redis server ``name`` (Django makes one cache object per thread)."""
    with _breakers_lock:
        return _breakers.setdefault(name, CircuitBreaker(name))


def _guarded(method_name: str):
    def method(self, *args, **kwargs):
        breaker = self.breaker
        if breaker.allow():
            try:
                result = getattr(DjangoRedisCache, method_name)(self, *args, **kwargs)
            except REDIS_ERRORS as exc:
                breaker.failure(exc)
            else:
                breaker.success()
                return result
        return getattr(self.fallback, method_name)(*args, **kwargs)

    method.__name__ = method_name
    method.__doc__ = f"Django's ``{method_name}`` on Redis; on the per-process fallback while Redis is unavailable."
    return method


class RedisCache(_NoMemcachedKeyWarnings, DjangoRedisCache):
    """Django's Redis cache with 250 ms timeouts, a circuit breaker and a per-process fallback
    (see the module docstring). ``OPTIONS`` may still override the connection settings."""

    def __init__(self, server, params):
        params = {**params, "OPTIONS": {
            "socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT,
            "retry": Retry(NoBackoff(), 0), **params.get("OPTIONS", {}),
        }}
        super().__init__(server, params)
        self.location = server if isinstance(server, str) else ",".join(server)
        self.breaker = breaker_for(self.location)
        self.fallback = LocMemCache(f"mfagate-fallback:{self.location}", {
            "TIMEOUT": params.get("TIMEOUT", 300), "OPTIONS": {"MAX_ENTRIES": 10_000}})

    add = _guarded("add")
    get = _guarded("get")
    set = _guarded("set")
    touch = _guarded("touch")
    delete = _guarded("delete")
    get_many = _guarded("get_many")
    has_key = _guarded("has_key")
    incr = _guarded("incr")
    set_many = _guarded("set_many")
    delete_many = _guarded("delete_many")
    clear = _guarded("clear")

    def publish(self, channel: str, message: str) -> bool:
        """PUBLISH ``message``; ``False`` when Redis is unavailable (never raises)."""
        if not self.breaker.allow():
            return False
        try:
            self._cache.get_client(None, write=True).publish(channel, message)
        except REDIS_ERRORS as exc:
            self.breaker.failure(exc)
            return False
        self.breaker.success()
        return True

    def invalidation_connection(self) -> redis.Connection:
        """A new, unconnected connection to the (first) Redis server, with the same timeouts, for a
        subscriber that watches its own health (:mod:`mfa_policies.access.channel`). RESP2: messages
        and PING answers arrive as plain replies in order (redis-py 8 speaks RESP3 by default, where
        they are push frames read elsewhere)."""
        options = {k: v for k, v in self._options.items() if k not in ("parser_class", "pool_class", "serializer")}
        return redis.ConnectionPool.from_url(self._servers[0], **{**options, "protocol": 2}).make_connection()
