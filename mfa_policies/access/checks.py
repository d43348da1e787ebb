"""System checks of the enforcement runtime: refused at start-up, not discovered at the first request."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from mfa_policies.app_settings import app_settings

from .tokens import TokenError, load_private_key

ACCESS_MIDDLEWARE = "mfa_policies.access.middleware.AccessMiddleware"
#: What the access middleware reads, so each must run before it.
MUST_RUN_BEFORE = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
)


@register()
def access_middleware_installed_in_order(app_configs, **kwargs):
    """Without the middleware no application is protected (fail open); before the session or the
    authentication middleware it cannot see who is signed in."""
    middleware = list(settings.MIDDLEWARE)
    if ACCESS_MIDDLEWARE not in middleware:
        return [Error(
            "mfagate's access middleware is not installed, so no application's policies are enforced.",
            hint=f"Add “{ACCESS_MIDDLEWARE}” to MIDDLEWARE, after {', '.join(MUST_RUN_BEFORE)}.",
            id="mfagate.E002",
        )]
    position = middleware.index(ACCESS_MIDDLEWARE)
    errors = []
    for needed in MUST_RUN_BEFORE:
        if needed not in middleware[:position]:
            where = "is missing" if needed not in middleware else "comes after it"
            errors.append(Error(
                f"mfagate's access middleware needs {needed}, which {where}.",
                hint=f"Put {needed} before “{ACCESS_MIDDLEWARE}” in MIDDLEWARE.",
                id="mfagate.E003",
            ))
    return errors


@register()
def jwt_key_is_ec_p256(app_configs, **kwargs):
    """A configured signing key of the wrong type would break every login flow at its first grant."""
    pem = app_settings.JWT_PRIVATE_KEY
    if not pem:
        return []  # generated on first use, always EC P-256
    try:
        load_private_key(pem)
    except TokenError as exc:
        return [Error(str(exc), hint="Generate one with: openssl ecparam -name prime256v1 -genkey -noout | "
                                     "openssl pkcs8 -topk8 -nocrypt", id="mfagate.E004")]
    return []
