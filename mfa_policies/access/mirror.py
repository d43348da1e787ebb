"""This process's mirror of the configuration, and when it may be trusted (README "Consistency model").

The mirror is an :class:`~.app_table.AppTable` — the applications and their ``config_version`` —
plus what the channel and the database told it last, and, filled by the login flow, each
application's configuration input (:func:`configuration_for`). :func:`table` answers **without any I/O** while all of these hold:

1. the channel vouches (:mod:`.channel`: Redis — a PING answered within the last second; local —
   always);
2. no notice arrived and no new subscription began since the mirror last asked the database;
3. it last asked the database less than :data:`LEASE` seconds ago.

Otherwise it asks the database first (:func:`refresh`): one indexed query
(:func:`mfa_policies.generation.configuration_changes_since`), and when something changed, one
more to reload just the organizations that did. With the channel down, frozen or reconnecting, every
gated request therefore reads the database: the mirror fails closed, never open.

:data:`LEASE` bounds what no channel can report — a process that died between its commit and its
announcement, an announcement sent to another Redis than the one this process listens to: such a
change is seen at most ``LEASE`` seconds after it committed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import replace

from mfa_policies import generation
from mfa_policies.models import Application
from mfa_policies.selectors import ConfigurationInput, application_versions, configuration_input

from . import channel
from .app_table import AppEntry, AppTable, load_table, reload_organizations

log = logging.getLogger("mfagate.mirror")

#: The longest the mirror is trusted without asking the database (seconds); README's bound.
LEASE = 2.0

_monotonic = time.monotonic  # the clock of the lease (tests move it)


class Mirror:
    def __init__(self):
        self._lock = threading.Lock()
        self._table: AppTable | None = None
        # (channel epoch, channel notices, monotonic time) as they were when the database was last asked
        self._verified: tuple[int, int, float] = (-1, -1, 0.0)
        #: The last refresh: seconds it took, and what it reloaded ("full", "organizations", "none"; or
        #: "environment": nothing — a new environment generation, the table kept as it is).
        self.last_refresh: tuple[float, str] = (0.0, "none")

    def table(self) -> AppTable:
        table = self._table
        if table is not None:
            current = channel.current()
            epoch, notices, at = self._verified
            now = _monotonic()
            if (now - at < LEASE and current.notices == notices and current.epoch == epoch
                    and current.vouches(now)):
                return table
        return self.refresh()

    def refresh(self) -> AppTable:
        """Ask the database what changed since the held table, reload that, and trust the result
        from the moment the question was asked."""
        with self._lock:
            current = channel.current()
            epoch, notices, started = current.epoch, current.notices, _monotonic()
            timer = time.perf_counter()
            table = self._table
            if table is None:
                table, what = load_table(), "full"
                _inputs.clear()
            else:
                changes = generation.configuration_changes_since(table.generation)
                environment_changed = changes.environment_generation != table.environment_generation
                what = ("full" if changes.everything else "organizations" if changes.organization_ids
                        else "environment" if environment_changed else "none")
                if changes.any or environment_changed or changes.generation != table.generation:
                    table = reload_organizations(table, changes)
            self._table = table
            self._verified = (epoch, notices, started)
            self.last_refresh = (time.perf_counter() - timer, what)
            if what != "none":
                log.debug("configuration generation %s: %s reload in %.1f ms", table.generation, what,
                          self.last_refresh[0] * 1000)
            return table

    def reset(self) -> None:
        with self._lock:
            self._table, self._verified = None, (-1, -1, 0.0)
            _inputs.clear()

    def _after_fork(self) -> None:
        # The parent's verification vouched for the parent's channel, not this process's.
        self._lock, self._verified = threading.Lock(), (-1, -1, 0.0)


_mirror = Mirror()
os.register_at_fork(after_in_child=_mirror._after_fork)


def table() -> AppTable:
    """The application table, current within the consistency model's bound."""
    return _mirror.table()


def refresh() -> AppTable:
    return _mirror.refresh()


def invalidate(_generation=None) -> None:
    """Distrust the table until the database was asked again (this process's own changes)."""
    channel.notice_if_running()


def reset() -> None:
    """Forget the table (tests, and a process that must start over)."""
    _mirror.reset()


def last_refresh() -> tuple[float, str]:
    return _mirror.last_refresh


_inputs: dict[int, ConfigurationInput] = {}


def configuration_for(entry: AppEntry) -> ConfigurationInput:
    """``entry``'s configuration input, kept per application and valid while the application's
    ``config_version`` and the environment generation in the database — one query by primary key —
    are the ones it was built under: every change that could alter an input raises one of them
    (:func:`mfa_policies.services.configuration_changed`). Built on the application's first login
    flow in this process and after each such change: five queries then. Raises
    ``Application.DoesNotExist`` when the application is gone."""
    versions = application_versions(entry.id)
    if versions is None:
        _inputs.pop(entry.id, None)
        raise Application.DoesNotExist(f"application {entry.id} is gone")
    version, environment = versions
    found = _inputs.get(entry.id)
    if (found is None or found.application.config_version != version
            or found.environment_generation != environment):
        # Built from queries made after reading the versions: never older than the versions it carries.
        found = replace(configuration_input(entry.id), environment_generation=environment)
        _inputs[entry.id] = found
    held = _mirror._table
    if version != entry.config_version or held is None or environment != held.environment_generation:
        invalidate()  # the table is behind the database: ask it at the next request
    return found


# This process's own changes distrust its table at once, whatever the channel.
generation.add_listener(invalidate)
