"""``@mfa_protected(app="…")`` — the middleware's rules for a view outside every path prefix."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import ImproperlyConfigured

from . import responses
from .enforcement import PASSED, current_table, enforce


def mfa_protected(app: str, org: str | None = None):
    """Enforce application ``app`` (by name; ``org`` names its organization when names repeat)
    on the decorated view. An unknown application is a configuration error, never a pass."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            table = current_table()
            entry = table.by_name(app, org)
            if entry is None:
                raise ImproperlyConfigured(f"@mfa_protected: no application named “{app}”"
                                           + (f" in organization “{org}”" if org else ""))
            outcome = enforce(request, entry, table)
            if outcome is not PASSED:
                return responses.respond(request, outcome)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
