"""System checks: setting combinations that would make mfagate fail open are refused at start-up."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from mfa_policies.app_settings import app_settings

PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "mfa_policies.cache_backends.LocMemCache",
)


@register()
def revocation_needs_a_shared_cache(app_configs, **kwargs):
    """Configuration changes and authenticator removals reach other processes through the cache.
    A per-process cache cannot carry them, so with several worker processes an app session
    revoked in one would stay live in the others. Refuse that outside development, unless the
    deployment declares it runs a single process."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if settings.DEBUG or app_settings.SINGLE_PROCESS or backend not in PER_PROCESS_CACHES:
        return []
    return [Error(
        f"The cache backend {backend} is private to each process, so revocations and configuration "
        "changes would not reach other worker processes.",
        hint="Set REDIS_URL to a shared Redis, or set MFAGATE_SINGLE_PROCESS=true if this deployment runs "
             "exactly one process.",
        id="mfagate.E001",
    )]
