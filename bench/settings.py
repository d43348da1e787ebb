"""Settings for bench/http_load.py's gunicorn: the project's, plus two bench-only paths.

- ``/bench/plain/``: the same view with no access middleware at all (the baseline);
- ``/bench/peer/``: the peer, django-otp's ``OTPMiddleware`` + ``otp_required`` on that view,
  again without mfagate's access middleware, and ``/bench/peer/verify/`` to verify a django-otp
  session with a TOTP code.
``/demo/a/bench/`` is the same view behind mfagate's access middleware (Application A's prefix).
"""

from config.settings import *  # noqa: F403
from config.settings import MIDDLEWARE

ROOT_URLCONF = "bench.urls"
ACCESS_MIDDLEWARE = "mfa_policies.access.middleware.AccessMiddleware"
MIDDLEWARE = [("bench.middleware.AccessMiddlewareExceptBaselines" if m == ACCESS_MIDDLEWARE else m)
              for m in MIDDLEWARE]
# django-otp's documented place: right after AuthenticationMiddleware (only on /bench/peer/).
MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
                  "bench.middleware.OTPMiddlewareOnPeerPaths")
