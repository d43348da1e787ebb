"""What a browser session remembers about MFA and app sessions — the one module that reads and
writes the runtime's keys in ``request.session`` (the sign-in record is :mod:`accounts.sign_in`'s).

- **MFA sessions**: independent MFA completed in this browser session, one entry per method;
- **app sessions**: per application, granted after a successful login flow;
- the **pending challenge**: which app the MFA challenge is for and where to go afterwards.

Nothing here ever holds a password or a code (SECURITY row 23). Times are stored as POSIX
seconds so the hot path compares floats without parsing.
"""

from __future__ import annotations

import datetime as dt
import logging

from mfa_policies import clock
from mfa_policies.resolution import MfaSession

log = logging.getLogger("mfagate.session")

MFA_KEY = "mfagate.mfa"
APPS_KEY = "mfagate.apps"
PENDING_KEY = "mfagate.pending"

#: A pending challenge lives this long.
PENDING_LIFETIME = dt.timedelta(minutes=10)


def _ts(at: dt.datetime) -> float:
    return at.timestamp()


def _dt(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc)


# ------------------------------------------------------------------------------ MFA sessions
def record_mfa(request, *, kind: str, authenticator_id: str, user_generation: int,
               at: dt.datetime | None = None) -> None:
    """Remember a completed independent MFA with ``kind`` (one entry per kind, the latest wins),
    under the user's current MFA generation."""
    entries = [e for e in request.session.get(MFA_KEY, []) if e.get("kind") != kind]
    entries.append({"kind": kind, "at": _ts(at or clock.now()), "authenticator_id": str(authenticator_id),
                    "generation": user_generation})
    request.session[MFA_KEY] = entries


def mfa_sessions(request, *, user_generation: int) -> tuple[MfaSession, ...]:
    """This session's MFA sessions made under ``user_generation``. Those from before an
    authenticator was removed (a newer generation) are forgotten: after a removal every other
    browser session must complete MFA again (spec §3.4, SECURITY row 13)."""
    entries = request.session.get(MFA_KEY, [])
    kept = [e for e in entries if e.get("generation") == user_generation]
    if len(kept) != len(entries):
        request.session[MFA_KEY] = kept
    return tuple(
        MfaSession(kind=e["kind"], verified_at=_dt(e["at"]), authenticator_id=e.get("authenticator_id", ""))
        for e in kept
    )


def adopt_user_generation(request, *, removed_authenticator_id: str, user_generation: int) -> None:
    """The browser session that removed an authenticator (after a step-up) keeps what it holds under
    the new generation — except anything made with the removed authenticator itself."""
    request.session[MFA_KEY] = [
        {**e, "generation": user_generation} for e in request.session.get(MFA_KEY, [])
        if e.get("authenticator_id") != removed_authenticator_id
    ]
    request.session[APPS_KEY] = {
        app_id: {**stored, "user_generation": user_generation}
        for app_id, stored in request.session.get(APPS_KEY, {}).items()
        if stored.get("authenticator_id") != removed_authenticator_id
    }


# ------------------------------------------------------------------------------ app sessions
def grant_app_session(request, *, app_id: int, granted_at: dt.datetime, expires_at: dt.datetime,
                      config_version: int, environment_generation: int, authenticator_id: str,
                      user_generation: int, token: str, claims: dict, decision: dict) -> None:
    """Store an app session for ``app_id``: a dict of the arguments (times as timestamps), read
    back by :func:`app_session`."""
    apps = dict(request.session.get(APPS_KEY, {}))
    apps[str(app_id)] = {
        "granted_at": _ts(granted_at),
        "expires_at": _ts(expires_at),
        "config_version": config_version,
        "environment_generation": environment_generation,
        "authenticator_id": authenticator_id,
        "user_generation": user_generation,
        "user_id": str(request.user.pk),
        "token": token,
        "claims": claims,
        "decision": decision,
    }
    request.session[APPS_KEY] = apps


def app_session(request, app_id: int) -> dict | None:
    """The stored app session for ``app_id`` (expired or not), or ``None``. No database access
    beyond loading the session itself."""
    apps = request.session.get(APPS_KEY)
    if not apps:
        return None
    return apps.get(str(app_id))


def drop_app_session(request, app_id: int) -> None:
    apps = dict(request.session.get(APPS_KEY, {}))
    if apps.pop(str(app_id), None) is not None:
        request.session[APPS_KEY] = apps


# --------------------------------------------------------------------------- pending challenge
def set_pending(request, *, app_id: int, next_url: str) -> None:
    request.session[PENDING_KEY] = {"app_id": app_id, "next": next_url, "at": _ts(clock.now())}


def pending(request) -> dict | None:
    """The pending challenge, or ``None`` when there is none or it is older than 10 minutes
    (an expired one is forgotten: the user starts over from the app)."""
    record = request.session.get(PENDING_KEY)
    if not isinstance(record, dict):
        return None
    if clock.now() - _dt(record.get("at", 0)) >= PENDING_LIFETIME:
        request.session.pop(PENDING_KEY, None)
        return None
    return record


def clear_pending(request) -> None:
    request.session.pop(PENDING_KEY, None)


def forget_sign_in_state(request) -> None:
    """A new sign-in: app sessions and a pending challenge granted under an earlier one are gone."""
    request.session.pop(APPS_KEY, None)
    request.session.pop(PENDING_KEY, None)
