"""Generations: what makes a held app session or application table stale.

The database is authoritative: ``Application.config_version`` and ``User.mfa_generation``. The
cache mirrors what the hot path needs so that a live app session costs no query:

- the **configuration generation**: a random value (never a counter) that every configuration
  change replaces once it commits (:func:`publish_config_generation`). A process holding an
  application table loaded under another value reloads it. A missing value, or one that is not
  ours, is replaced by a fresh random one: every process then sees a value it never loaded under
  and reloads from the database.
- **user generations**: :func:`user_generation_bump` raises ``User.mfa_generation`` inside the
  caller's transaction and writes the new value to the cache on commit; a miss reads the database
  and fills the cache with ``add``, which never overwrites a newer value written meanwhile.

A cache that raises (Redis down) is treated as a miss: the database answers. When a write to the
cache fails, the key is deleted, so the stale value cannot outlive the change.
"""

from __future__ import annotations

import logging
import secrets

from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from accounts.models import User

log = logging.getLogger("mfagate.generation")

CONFIG_GENERATION_KEY = "mfagate:config-generation"
# Published configuration generations are at least this large, so a small integer written by
# anything else (or a counter) is never mistaken for one.
_SMALL = 1 << 32


def user_generation_key(user_id) -> str:
    return f"mfagate:user-generation:{user_id}"


def _safe_get_many(keys: list[str]) -> dict:
    try:
        return cache.get_many(keys)
    except Exception:  # the cache is a mirror: when it fails, the database answers
        log.exception("cache get_many failed; falling back to the database")
        return {}


def _set_or_delete(key: str, value: int) -> None:
    """Write ``value``; when that fails, make sure the old value is gone at least (a stale mirror
    would fail open, a missing one sends readers to the database)."""
    try:
        cache.set(key, value, timeout=None)
    except Exception:
        log.exception("cache set failed for %s; deleting it", key)
        try:
            cache.delete(key)
        except Exception:
            log.exception("cache delete failed for %s", key)


def _is_config_generation(value) -> bool:
    return isinstance(value, int) and value >= _SMALL


# ------------------------------------------------------------------------- configuration
def publish_config_generation() -> int:
    """Publish a fresh configuration generation, so every process reloads its application table.
    Returns the value published (or attempted)."""
    fresh = _SMALL + secrets.randbits(62)
    _set_or_delete(CONFIG_GENERATION_KEY, fresh)
    return fresh


def config_generation() -> int:
    """The current configuration generation (one cache read when warm)."""
    value = _safe_get_many([CONFIG_GENERATION_KEY]).get(CONFIG_GENERATION_KEY)
    return value if _is_config_generation(value) else publish_config_generation()


def generations(user_id=None) -> tuple[int, int | None]:
    """``(configuration generation, the user's generation)`` in one cache round trip; the user's
    is ``None`` when ``user_id`` is ``None`` or it is not cached."""
    ukey = user_generation_key(user_id) if user_id is not None else None
    values = _safe_get_many([CONFIG_GENERATION_KEY, ukey] if ukey else [CONFIG_GENERATION_KEY])
    gen = values.get(CONFIG_GENERATION_KEY)
    if not _is_config_generation(gen):
        gen = publish_config_generation()
    user_gen = values.get(ukey) if ukey else None
    return gen, user_gen if isinstance(user_gen, int) else None


# ----------------------------------------------------------------------------------- users
def stored_user_generation(user_id) -> int:
    """The user's MFA generation as the database holds it (inside a transaction: as it will commit)."""
    return User.objects.filter(pk=user_id).values_list("mfa_generation", flat=True).first() or 0


def user_generation(user_id, cached: int | None = None) -> int:
    """The user's MFA generation: ``cached`` if given, else the cache, else the database (and the
    cache is filled with ``add``)."""
    if cached is not None:
        return cached
    key = user_generation_key(user_id)
    value = _safe_get_many([key]).get(key)
    if isinstance(value, int):
        return value
    value = stored_user_generation(user_id)
    try:
        cache.add(key, value, timeout=None)
    except Exception:
        log.exception("cache add failed for %s", key)
    return value


def user_generation_bump(user_id) -> int:
    """Raise the user's MFA generation. Must run inside the transaction of the change; the cache is
    updated when it commits. Returns the new value."""
    User.objects.filter(pk=user_id).update(mfa_generation=F("mfa_generation") + 1)
    value = stored_user_generation(user_id)
    key = user_generation_key(user_id)
    transaction.on_commit(lambda: _set_or_delete(key, value))
    return value
