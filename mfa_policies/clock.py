"""The one place mfagate reads the time.

Everything that compares against "now" (the resolver's callers, step-up windows, app sessions,
TOTP verification) calls :func:`now`. Tests move time with the ``clock`` fixture, which calls
:func:`freeze`; nothing sleeps.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    return _frozen if _frozen is not None else timezone.now()


def freeze(at: dt.datetime | None) -> None:
    """Pin the clock at ``at`` (an aware datetime); ``None`` returns to the system clock."""
    global _frozen
    if at is not None and timezone.is_naive(at):
        raise ValueError("the clock needs an aware datetime")
    _frozen = at
