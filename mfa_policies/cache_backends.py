"""Cache backends without the memcached key-portability warnings.

Django's ``BaseCache.validate_key`` walks every character of every key to warn about keys
memcached would reject. mfagate runs on local memory or Redis, whose keys have no such limits,
and reads two keys on every protected request; the walk was a measurable part of that hot path
(see ``bench/enforcement.py``). Everything else is Django's own backend.
"""

from django.core.cache.backends.locmem import LocMemCache as DjangoLocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache


class _NoMemcachedKeyWarnings:
    def validate_key(self, key):
        pass


class LocMemCache(_NoMemcachedKeyWarnings, DjangoLocMemCache):
    pass


class RedisCache(_NoMemcachedKeyWarnings, DjangoRedisCache):
    pass
