"""Revocation across processes: the configuration generation and per-user MFA generations.

The database is authoritative (``Application.config_version``, ``User.mfa_generation``); the
cache mirrors it so the hot path needs no query. A cold or evicted cache never fails open:

- **configuration**: :func:`config_generation` returns the cache's generation, which
  :func:`mfa_policies.services.configuration_changed` sets to a fresh random value on every
  change. When it is missing (or not one of those values) it is replaced by a fresh random
  value, so every process sees a value it has never loaded under and reloads its application
  table from the database.
- **users**: :func:`user_generation_bump` raises ``User.mfa_generation`` inside the caller's
  transaction and writes the new value to the cache on commit (``set``); a miss reads the database
  and fills the cache with ``add``, which never overwrites a newer value written meanwhile.

A cache that raises (Redis down) is treated as a miss: the database answers.
"""

from __future__ import annotations

import logging
import secrets

from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from mfa_policies.services import CONFIG_GENERATION_KEY

log = logging.getLogger("mfagate.revocation")

_SMALL = 1 << 32


def user_generation_key(user_id) -> str:
    return f"mfagate:user-generation:{user_id}"


def _safe_get_many(keys: list[str]) -> dict:
    try:
        return cache.get_many(keys)
    except Exception:  # the cache is a mirror: when it fails, the database answers
        log.exception("cache get_many failed; falling back to the database")
        return {}


def config_generation() -> int:
    """The current configuration generation (one cache read when warm)."""
    value = _safe_get_many([CONFIG_GENERATION_KEY]).get(CONFIG_GENERATION_KEY)
    if isinstance(value, int) and value >= _SMALL:
        return value
    return _reseed_config_generation()


def _reseed_config_generation() -> int:
    fresh = _SMALL + secrets.randbits(62)
    try:
        cache.set(CONFIG_GENERATION_KEY, fresh, timeout=None)
    except Exception:
        log.exception("cache set failed for the configuration generation")
    return fresh


def force_reload() -> int:
    """Publish a fresh configuration generation, so every process reloads its application table."""
    return _reseed_config_generation()


def generations(user_id=None) -> tuple[int, int | None]:
    """``(config generation, the user's generation)`` in one cache round trip; the user's is
    ``None`` when ``user_id`` is ``None`` or it is not cached."""
    ukey = user_generation_key(user_id) if user_id is not None else None
    values = _safe_get_many([CONFIG_GENERATION_KEY, ukey] if ukey else [CONFIG_GENERATION_KEY])
    gen = values.get(CONFIG_GENERATION_KEY)
    if not (isinstance(gen, int) and gen >= _SMALL):
        gen = _reseed_config_generation()
    user_gen = values.get(ukey) if ukey else None
    return gen, user_gen if isinstance(user_gen, int) else None


def user_generation(user_id, cached: int | None = None) -> int:
    """The user's MFA generation: ``cached`` if given, else the cache, else the database (and the
    cache is filled with ``add``)."""
    if cached is not None:
        return cached
    key = user_generation_key(user_id)
    value = _safe_get_many([key]).get(key)
    if isinstance(value, int):
        return value
    from accounts.models import User

    value = User.objects.filter(pk=user_id).values_list("mfa_generation", flat=True).first() or 0
    try:
        cache.add(key, value, timeout=None)
    except Exception:
        log.exception("cache add failed for %s", key)
    return value


def stored_user_generation(user_id) -> int:
    """The user's MFA generation as the database holds it (inside a transaction: as it will commit)."""
    from accounts.models import User

    return User.objects.filter(pk=user_id).values_list("mfa_generation", flat=True).first() or 0


def user_generation_bump(user_id) -> int:
    """Raise the user's MFA generation. Must run inside the transaction of the change; the cache is
    updated when it commits. Returns the new value."""
    from accounts.models import User

    User.objects.filter(pk=user_id).update(mfa_generation=F("mfa_generation") + 1)
    value = User.objects.filter(pk=user_id).values_list("mfa_generation", flat=True).first() or 0
    key = user_generation_key(user_id)

    def publish():
        try:
            cache.set(key, value, timeout=None)
        except Exception:
            # The stale cached value would fail open: make sure it is gone at least.
            log.exception("cache set failed for %s; deleting it", key)
            try:
                cache.delete(key)
            except Exception:
                log.exception("cache delete failed for %s", key)

    transaction.on_commit(publish)
    return value
