"""What the login flow that sent a user to enroll asked for (``/AddMfaDevice?next=…``).

The access runtime decides that a user must enroll before an application lets them in; it records
here, in the browser session, which application that was, the kinds it accepts and what remains
of the organization's enrollment grace period. The enrollment page reads it back — only for the
same ``next`` — to offer the accepted kinds first and “Set up later” while the grace period lasts.

It is a hint for the page: the runtime decides again before it lets a skip through, and consumes
the entry when it does (so a replayed “Set up later” finds nothing). Enrollment never imports the
runtime; the runtime calls :func:`remember` and :func:`consume`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mfa_policies import clock
from mfa_policies.resolution import Grace, ordered_kinds

SESSION_KEY = "mfagate.enroll_for"

#: A request to enroll lives this long (the pending MFA challenge's lifetime).
LIFETIME = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Requested:
    """One login flow's request to enroll."""

    next_url: str
    application_id: int
    application: str
    organization_id: int | None
    kinds: tuple[str, ...]
    grace: Grace | None


def remember(request, *, next_url: str, application_id: int, application: str, organization_id: int | None,
             kinds, grace: Grace | None) -> None:
    request.session[SESSION_KEY] = {
        "next": next_url, "app_id": application_id, "app": application, "org_id": organization_id,
        "kinds": list(ordered_kinds(kinds)), "at": clock.now().timestamp(),
        "grace": None if grace is None else {
            "until": grace.until.timestamp() if grace.until is not None else None,
            "sign_ins_left": grace.sign_ins_left,
        },
    }


def for_next(request, next_url: str | None) -> Requested | None:
    """The live request to enroll whose ``next`` is ``next_url``, else ``None``."""
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict) or not next_url or data.get("next") != next_url:
        return None
    try:
        at = dt.datetime.fromtimestamp(data["at"], tz=dt.timezone.utc)
        grace = data.get("grace")
        return None if clock.now() - at > LIFETIME or at > clock.now() else Requested(
            next_url=data["next"], application_id=int(data["app_id"]), application=str(data["app"]),
            organization_id=data.get("org_id"), kinds=ordered_kinds(data.get("kinds") or ()),
            grace=None if not grace else Grace(
                until=(dt.datetime.fromtimestamp(grace["until"], tz=dt.timezone.utc)
                       if grace.get("until") is not None else None),
                sign_ins_left=grace.get("sign_ins_left")),
        )
    except (KeyError, TypeError, ValueError, OverflowError):
        return None


def consume(request, next_url: str | None) -> Requested | None:
    """:func:`for_next`, and forget it: one request to enroll allows one skip."""
    found = for_next(request, next_url)
    request.session.pop(SESSION_KEY, None)
    return found
