"""Start-up checks refuse settings that would fail open."""

from __future__ import annotations

import warnings

from django.core.cache import caches
from django.core.cache.backends.base import CacheKeyWarning

from mfa_policies.checks import one_jwt_key_for_every_host, revocation_needs_a_shared_cache

LOCMEM = {"default": {"BACKEND": "mfa_policies.cache_backends.LocMemCache", "LOCATION": "check"}}
REDIS = {"default": {"BACKEND": "mfa_policies.cache_backends.RedisCache", "LOCATION": "redis://127.0.0.1:6379/7"}}


def test_a_per_process_cache_is_refused_outside_development(settings):
    settings.DEBUG, settings.CACHES, settings.MFAGATE_SINGLE_PROCESS = False, LOCMEM, False
    errors = revocation_needs_a_shared_cache(None)
    assert [e.id for e in errors] == ["mfagate.E001"]
    assert "REDIS_URL" in errors[0].hint


def test_a_declared_single_process_deployment_may_use_local_memory(settings):
    settings.DEBUG, settings.CACHES, settings.MFAGATE_SINGLE_PROCESS = False, LOCMEM, True
    assert revocation_needs_a_shared_cache(None) == []


def test_a_shared_cache_passes(settings):
    settings.DEBUG, settings.CACHES = False, REDIS
    assert revocation_needs_a_shared_cache(None) == []


def test_development_may_use_local_memory(settings):
    settings.DEBUG, settings.CACHES = True, LOCMEM
    assert revocation_needs_a_shared_cache(None) == []


def test_the_cache_backends_skip_only_the_memcached_key_warnings():
    cache = caches["default"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        cache.set("a key memcached would reject", 41)
        assert cache.get("a key memcached would reject") == 41
        assert cache.incr("a key memcached would reject") == 42


# ------------------------------------------------------------------------ one JWT key per site
def test_a_generated_jwt_key_is_refused_outside_development(settings):
    settings.DEBUG, settings.MFAGATE_JWT_PRIVATE_KEY, settings.MFAGATE_ALLOW_GENERATED_JWT_KEY = False, "", False
    errors = one_jwt_key_for_every_host(None)
    assert [e.id for e in errors] == ["mfagate.E006"]
    assert "MFAGATE_JWT_PRIVATE_KEY" in errors[0].hint and "MFAGATE_ALLOW_GENERATED_JWT_KEY" in errors[0].hint


def test_a_configured_jwt_key_passes(settings):
    settings.DEBUG, settings.MFAGATE_JWT_PRIVATE_KEY = False, "-----BEGIN PRIVATE KEY-----\n…"
    assert one_jwt_key_for_every_host(None) == []  # its type is check E004's business


def test_a_declared_single_host_deployment_may_generate_its_jwt_key(settings):
    settings.DEBUG, settings.MFAGATE_JWT_PRIVATE_KEY, settings.MFAGATE_ALLOW_GENERATED_JWT_KEY = False, "", True
    assert one_jwt_key_for_every_host(None) == []


def test_development_may_generate_its_jwt_key(settings):
    settings.DEBUG, settings.MFAGATE_JWT_PRIVATE_KEY = True, ""
    assert one_jwt_key_for_every_host(None) == []
