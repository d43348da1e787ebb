"""The step-up window (seed 002 "MFA verification for authenticator changes").

A user with at least one authenticator must verify with one of them before adding or removing
any. A verification opens a 10-minute window bound to this browser session: the session key is
rotated when it opens and recorded with the opening time, so neither another browser session
nor a copy of this one made before the verification can use it. It also records the user's MFA
generation: removing an authenticator anywhere closes every other browser's window (whoever
opened it may have used the authenticator that was just removed). Only a local authenticator
opens it — never the IdP's ``amr``.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from accounts.audit import audit_record
from mfa_policies import clock, generation

from . import selectors
from .messages import EnrollmentError
from .notices import client_ip

WINDOW = dt.timedelta(minutes=10)
SESSION_KEY = "mfagate.step_up"


def is_required(user) -> bool:
    return selectors.has_devices(user)


def is_open(request) -> bool:
    state = request.session.get(SESSION_KEY)
    if not isinstance(state, dict):
        return False
    try:
        opened = dt.datetime.fromtimestamp(float(state["at"]), tz=dt.timezone.utc)
    except (KeyError, TypeError, ValueError, OverflowError):
        return False
    if state.get("session_key") != request.session.session_key:
        return False
    if state.get("generation") != generation.stored_user_generation(request.user.pk):
        return False
    elapsed = clock.now() - opened
    return dt.timedelta(0) <= elapsed < WINDOW


def allows_changes(request) -> bool:
    """May this request add or remove authenticators right now?"""
    return not is_required(request.user) or is_open(request)


def raise_unless_allowed(request, user) -> None:
    """The precondition of every flow that adds or removes an authenticator: ``user`` has none yet,
    or this request's browser session holds an open window for ``user``."""
    if not selectors.has_devices(user):
        return
    if getattr(request, "user", None) != user or getattr(request, "session", None) is None or not is_open(request):
        raise EnrollmentError("step_up_required")


def open_window(request, *, authenticator=None) -> None:
    """Call after a successful local verification (with ``authenticator``, when there is one to
    name): rotates the session key, opens the window, and records ``step_up.opened``."""
    now = clock.now()
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"at": now.timestamp(), "session_key": request.session.session_key,
                                    "generation": generation.stored_user_generation(request.user.pk)}
    with transaction.atomic():
        audit_record(actor=request.user, action="step_up.opened", obj=request.user, subject_user=request.user,
                     ip_address=client_ip(request), after={
                         "expires_at": (now + WINDOW).isoformat(),
                         "kind": getattr(authenticator, "kind", None),
                         "authenticator_id": str(authenticator.pk) if authenticator is not None else None,
                         "authenticator_name": getattr(authenticator, "name", None),
                     })


def adopt_generation(request, generation: int) -> None:
    """After this session removed an authenticator inside its window, the window stays open here."""
    state = request.session.get(SESSION_KEY)
    if isinstance(state, dict):
        request.session[SESSION_KEY] = {**state, "generation": generation}


def close_window(request) -> None:
    request.session.pop(SESSION_KEY, None)
