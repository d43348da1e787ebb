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


@register()
def one_jwt_key_for_every_host(app_configs, **kwargs):
    """Without ``MFAGATE_JWT_PRIVATE_KEY`` each host generates its own key into ``var/``: an app
    session's JWT signed on one host fails on the next, and each host publishes a different JWKS.
    Refuse that outside development, unless the deployment declares it runs on one host."""
    if settings.DEBUG or app_settings.JWT_PRIVATE_KEY or app_settings.ALLOW_GENERATED_JWT_KEY:
        return []
    return [Error(
        f"MFAGATE_JWT_PRIVATE_KEY is not set, so this host would sign app-session JWTs with a key of its own, "
        f"generated into {app_settings.JWT_KEY_FILE}; tokens from one host would not verify on another.",
        hint="Set MFAGATE_JWT_PRIVATE_KEY to the same EC P-256 PEM on every host (openssl ecparam -name prime256v1 "
             "-genkey -noout | openssl pkcs8 -topk8 -nocrypt), or MFAGATE_ALLOW_GENERATED_JWT_KEY=true if this "
             "deployment runs on exactly one host.",
        id="mfagate.E006",
    )]
