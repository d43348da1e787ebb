"""The invalidation channel: how this process hears that the configuration changed elsewhere — and
whether it can vouch, right now, that it would have heard.

A channel counts **notices** (announcements of :func:`mfa_policies.generation.announce`: "ask the
database") and numbers its **epochs** (one per continuous subscription). :mod:`.mirror` trusts its
table only while the channel vouches and neither number moved since it last asked the database.

- :class:`LocalChannel`, with the local-memory cache (development, tests, a declared one-process
  deployment): hears this process's own changes, always vouches. Writers elsewhere (a shell, a
  second process) are caught by the mirror's lease.
- :class:`RedisChannel`, with :class:`~mfa_policies.cache_backends.RedisCache`: a daemon thread
  subscribed to :data:`~mfa_policies.generation.CHANNEL` on a connection of its own, pinging every
  :data:`PING_INTERVAL`. Redis answers a PING only after delivering every message published before
  it, so an answered PING sent at *t* proves nothing published before *t* was missed; the channel
  vouches until *t* + :data:`GRACE`. A closed connection, an error or a PING unanswered within
  :data:`PING_TIMEOUT` (a frozen Redis) ends the subscription at once; the thread reconnects with
  a growing delay (at most 1 s), and the new subscription is a new epoch — whatever was published
  in between is unknown, so the mirror asks the database before trusting anything again.

Nothing read from Redis is ever trusted as data: a message only makes the mirror ask the database,
so a restarted, restored, flushed or different Redis can delay an announcement, never forge one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Callable

from django.core.cache import caches

from mfa_policies.generation import CHANNEL

log = logging.getLogger("mfagate.channel")

#: How often the subscriber pings Redis, how long it waits for the answer, and for how long after
#: sending an answered ping the channel vouches (seconds).
PING_INTERVAL = 0.2
PING_TIMEOUT = 0.5
GRACE = 1.0
#: The longest wait between two reconnection attempts (seconds).
MAX_RECONNECT_DELAY = 1.0


class LocalChannel:
    """This process's own announcements; always vouches (see the module docstring)."""

    kind = "local"

    def __init__(self):
        self._lock = threading.Lock()
        self.epoch = 0
        self.notices = 0

    def notice(self, _generation=None) -> None:
        with self._lock:
            self.notices += 1

    def vouches(self, now: float) -> bool:
        return True

    def stop(self, timeout: float = 1.0) -> None:
        pass


class RedisChannel(LocalChannel):
    """Announcements from every process, through a Redis subscription whose health is watched
    (see the module docstring). ``connect`` returns a new, unconnected ``redis.Connection``."""

    kind = "redis"

    def __init__(self, connect: Callable, name: str = "redis"):
        super().__init__()
        self._connect, self.name = connect, name
        self._healthy = False
        self._vouched_at = 0.0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mfagate-invalidation", daemon=True)

    def start(self) -> "RedisChannel":
        self._thread.start()
        return self

    def stop(self, timeout: float = 1.0) -> None:
        self._stopping.set()
        self._thread.join(timeout)

    def vouches(self, now: float) -> bool:
        return self._healthy and now - self._vouched_at < GRACE

    def wait_until_vouching(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.vouches(time.monotonic()):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    # ------------------------------------------------------------------------ the thread
    def _run(self) -> None:
        delay, lost_logged = 0.05, False
        while not self._stopping.is_set():
            conn = None
            try:
                conn = self._connect()
                self._subscribe(conn)
                delay, lost_logged = 0.05, False
                self._pump(conn)
            except Exception as exc:
                if not lost_logged:
                    log.warning("invalidation channel %s is down (%s: %s); every gated request reads the "
                                "configuration generation from the database until it is back",
                                self.name, type(exc).__name__, exc)
                    lost_logged = True
            finally:
                self._healthy = False
                if conn is not None:
                    try:
                        conn.disconnect()
                    except Exception:
                        pass
            self._stopping.wait(delay)
            delay = min(delay * 2, MAX_RECONNECT_DELAY)

    def _subscribe(self, conn) -> None:
        conn.connect()
        sent = time.monotonic()
        conn.send_command("SUBSCRIBE", CHANNEL)
        reply = conn.read_response()
        if not (isinstance(reply, list) and reply and reply[0] in (b"subscribe", "subscribe")):
            raise ConnectionError(f"unexpected answer to SUBSCRIBE: {reply!r}")
        with self._lock:
            self.epoch += 1  # a new subscription: what was published before it is unknown
            self._vouched_at = sent
            self._healthy = True
        log.info("invalidation channel %s subscribed (epoch %s)", self.name, self.epoch)

    def _pump(self, conn) -> None:
        """Read messages and keep the subscription proven alive until it fails (raises)."""
        ping_sent, next_ping = None, time.monotonic() + PING_INTERVAL
        while not self._stopping.is_set():
            now = time.monotonic()
            if ping_sent is None and now >= next_ping:
                conn.send_command("PING")
                ping_sent = now
            if ping_sent is not None:
                if now - ping_sent > PING_TIMEOUT:
                    raise TimeoutError(f"no answer to PING within {PING_TIMEOUT} s")
                wait = ping_sent + PING_TIMEOUT - now
            else:
                wait = next_ping - now
            if not conn.can_read(timeout=max(wait, 0.0)):
                continue
            reply = conn.read_response()
            kind = reply[0] if isinstance(reply, list) and reply else reply
            if kind in (b"message", "message"):
                self.notice()
            elif kind in (b"pong", "pong") and ping_sent is not None:
                self._vouched_at, ping_sent = ping_sent, None
                next_ping = time.monotonic() + PING_INTERVAL


# ---------------------------------------------------------------------- the process's channel
_lock = threading.Lock()
_channel: LocalChannel | None = None


def current() -> LocalChannel:
    """This process's channel: Redis when the default cache can open one, else local."""
    channel = _channel
    return channel if channel is not None else _create()


def _create() -> LocalChannel:
    global _channel
    with _lock:
        if _channel is None:
            backend = caches["default"]
            connect = getattr(backend, "invalidation_connection", None)
            _channel = (RedisChannel(connect, name=getattr(backend, "location", "redis")).start()
                        if connect is not None else LocalChannel())
        return _channel


def notice_if_running() -> None:
    """Count a notice on this process's channel, if it has one (a process without a channel holds
    no table to distrust: a management command, a fresh worker)."""
    channel = _channel
    if channel is not None:
        channel.notice()


def reset() -> None:
    """Stop and forget this process's channel (tests; a new one starts on the next request)."""
    global _channel
    with _lock:
        channel, _channel = _channel, None
    if channel is not None:
        channel.stop()


def _forget_after_fork() -> None:
    # A forked worker has no listener thread: it starts its own on its first request.
    global _channel, _lock
    _channel, _lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
