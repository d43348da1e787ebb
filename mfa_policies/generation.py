"""Generations: what makes a held app session or a process's application table stale (spec §3.4).

The database is authoritative for both; nothing any cache holds is ever trusted for them
(README "Consistency model").

- The **user's MFA generation**, ``User.mfa_generation``: :func:`user_generation_bump` raises it
  inside the transaction that removes an authenticator. The runtime reads it from ``request.user``
  — the row Django's authentication middleware loads on every request anyway — so it needs no
  mirror and no invalidation: a removal is seen by the very next request, whatever the cache does.
- The **configuration generation**: a counter (:class:`~mfa_policies.models.ConfigurationGeneration`
  scope ``*``) that :func:`configuration_bump` raises inside the transaction of every configuration
  change, recording which organizations it touched, or that it was **environment-wide** (the
  environment, a role, a connection: what every application's login flow reads, but no application
  row), or everything (reload it all). Raising it takes the counter's
  row lock, so configuration changes commit in generation order: whoever reads generation *g* also
  sees every change up to *g* — there are no gaps to miss. Processes mirror the configuration in
  memory (:mod:`mfa_policies.access.mirror`) and ask :func:`configuration_changes_since` — one
  indexed query — what changed since the generation they hold.

After the commit, :func:`configuration_bump` **announces** the new generation: at once to this
process's listeners, and to the other processes through the cache backend's ``publish`` (Redis
pub/sub, :mod:`mfa_policies.cache_backends`). An announcement carries nothing anyone trusts: it
only says "ask the database now". An announcement that is lost (the process died after the commit,
Redis was down, frozen or another one) is made up for by the mirror's lease.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Iterable

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from accounts.models import User

from .models import ConfigurationGeneration

log = logging.getLogger("mfagate.generation")

#: The counter's scope, the scope of a change after which processes reload everything, and the scope
#: of an environment-wide change — whose generation every app session carries (the **environment
#: generation**), so that one such change makes each of them re-run the login flow without any
#: application row changing or any process reloading its table.
GLOBAL = "*"
EVERYTHING = "all"
ENVIRONMENT = "environment"
#: The pub/sub channel announcements go out on.
CHANNEL = "mfagate:configuration"


def organization_scope(organization_id) -> str:
    return f"org:{organization_id}"


# ------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class Changes:
    """What changed since a generation: ``generation`` is the database's now; ``everything`` means
    reload everything (writes that bypassed the services, or a database whose counter is behind the
    one asked about — restored from a backup, flushed); else ``organization_ids`` changed.
    ``environment_generation`` is the database's environment generation now (0: no environment-wide
    change yet), whatever changed."""

    generation: int
    everything: bool = False
    organization_ids: frozenset[int] = frozenset()
    environment_generation: int = 0

    @property
    def any(self) -> bool:
        return self.everything or bool(self.organization_ids)


def configuration_generation() -> int:
    """The database's configuration generation (0 before the first change): one query."""
    return ConfigurationGeneration.objects.filter(scope=GLOBAL).values_list("generation", flat=True).first() or 0


def configuration_state() -> tuple[int, int]:
    """The database's configuration generation and environment generation: one query."""
    rows = dict(ConfigurationGeneration.objects.filter(scope__in=[GLOBAL, ENVIRONMENT]).values_list("scope", "generation"))
    return rows.get(GLOBAL, 0), rows.get(ENVIRONMENT, 0)


def configuration_changes_since(generation: int | None) -> Changes:
    """What changed after ``generation`` (``None``: unknown, so everything): one indexed query."""
    rows = dict(ConfigurationGeneration.objects.filter(Q(generation__gt=generation or 0)
                                                       | Q(scope__in=[GLOBAL, ENVIRONMENT]))
                .values_list("scope", "generation"))
    current, environment = rows.pop(GLOBAL, 0), rows.pop(ENVIRONMENT, 0)
    if generation is None or current < generation:
        return Changes(generation=current, everything=True, environment_generation=environment)
    if current == generation:
        return Changes(generation=current, environment_generation=environment)
    everything = EVERYTHING in rows
    org_ids = frozenset(int(scope[4:]) for scope in rows if scope.startswith("org:") and scope[4:].isdigit())
    return Changes(generation=current, everything=everything, organization_ids=org_ids,
                   environment_generation=environment)


def _next_generation() -> int:
    """Raise the counter (taking its row lock until the caller's transaction ends); the new value."""
    counter = ConfigurationGeneration.objects.filter(scope=GLOBAL)
    for _ in range(3):
        if counter.update(generation=F("generation") + 1):
            return counter.values_list("generation", flat=True).get()
        try:
            with transaction.atomic():
                ConfigurationGeneration.objects.create(scope=GLOBAL, generation=1)
            return 1
        except IntegrityError:
            continue  # created meanwhile by another transaction: raise it now
    raise RuntimeError("could not raise the configuration generation")


def configuration_bump(*, organization_ids: Iterable[int] = (), everything: bool = False,
                       environment: bool = False) -> int | None:
    """Record a configuration change touching ``organization_ids``, the ``environment`` (every
    application's login flow; the new generation becomes the environment generation), or
    ``everything`` (every process reloads all it holds). Must run inside the change's transaction;
    the new generation is announced when it commits. Returns the new generation, or ``None`` when
    the change touches nothing a process holds."""
    org_ids = sorted({int(i) for i in organization_ids if i is not None})
    if not everything and not environment and not org_ids:
        return None
    value = _next_generation()
    scopes = [EVERYTHING] if everything else [organization_scope(i) for i in org_ids]
    if environment:
        scopes.append(ENVIRONMENT)
    ConfigurationGeneration.objects.bulk_create(
        [ConfigurationGeneration(scope=scope, generation=value) for scope in scopes],
        update_conflicts=True, unique_fields=["scope"], update_fields=["generation"],
    )
    transaction.on_commit(lambda: announce(value))
    return value


_listeners: list[Callable[[int], None]] = []


def add_listener(listener: Callable[[int], None]) -> None:
    """Call ``listener(generation)`` in this process whenever a change commits here."""
    if listener not in _listeners:
        _listeners.append(listener)


def announce(value: int) -> None:
    """Tell this process, then every other one, that generation ``value`` committed. Never raises:
    a lost announcement is made up for by the mirror's lease."""
    for listener in list(_listeners):
        try:
            listener(value)
        except Exception:
            log.exception("a configuration listener failed")
    publish = getattr(cache, "publish", None)  # the shared cache backend's pub/sub (Redis)
    if publish is not None and not publish(CHANNEL, str(value)):
        log.warning("configuration generation %s was not announced to other processes; "
                    "they see it when their lease ends", value)


# ----------------------------------------------------------------------------------- users
def stored_user_generation(user_id) -> int:
    """The user's MFA generation as the database holds it (inside a transaction: as it will commit)."""
    return User.objects.filter(pk=user_id).values_list("mfa_generation", flat=True).first() or 0


def user_generation_bump(user_id) -> int:
    """Raise the user's MFA generation. Must run inside the transaction of the change: every other
    request of the user sees it once that commits. Returns the new value."""
    User.objects.filter(pk=user_id).update(mfa_generation=F("mfa_generation") + 1)
    return stored_user_generation(user_id)
