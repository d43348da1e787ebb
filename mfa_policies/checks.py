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
    """Configuration changes are announced to other processes through the shared cache (Redis
    pub/sub), and sign-in rate limits are counted there. With a per-process cache and several
    worker processes, the others would see a change only when their mirror's lease ends, and each
    would count rate limits alone. Refuse that outside development, unless the deployment declares
    it runs a single process. (Authenticator removals need no cache: every request reads them.)"""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if settings.DEBUG or app_settings.SINGLE_PROCESS or backend not in PER_PROCESS_CACHES:
        return []
    return [Error(
        f"The cache backend {backend} is private to each process, so configuration changes would not be "
        "announced to other worker processes (they would wait for their lease) and sign-in rate limits "
        "would count per process.",
        hint="Set REDIS_URL to a shared Redis, or set MFAGATE_SINGLE_PROCESS=true if this deployment runs "
             "exactly one process.",
        id="mfagate.E001",
    )]
