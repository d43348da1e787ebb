"""``@mfa_protected(app="…")`` — the middleware's rules for a view outside every path prefix."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import ImproperlyConfigured

from mfa_policies.access.enforcement import current_table, enforce


def mfa_protected(app: str, org: str | None = None):
    """Enforce application ``app`` (by name; ``org`` names its organization when names repeat)
    on the decorated view. An unknown application is a configuration error, never a pass."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            entry = current_table().by_name(app, org)
            if entry is None:
                raise ImproperlyConfigured(f"@mfa_protected: no application named “{app}”"
                                           + (f" in organization “{org}”" if org else ""))
            response = enforce(request, entry)
            if response is not None:
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
