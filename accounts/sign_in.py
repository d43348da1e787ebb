"""Recording a sign-in: which connection, what the IdP says about the authentication, and when.

Every sign-in writes one record in the browser session (:func:`record_sign_in`, called by the
allauth adapter and for every Django login): the connection key, the IdP's ``amr`` (RFC 8176
values, kept exactly) and ``auth_time``. The resolver reads it as a
:class:`~mfa_policies.resolution.SignIn` through :func:`sign_in_context`: ``require
auth_method`` rules, AMR matching and exempt connections all start here.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from mfa_policies import clock
from mfa_policies.models import Connection
from mfa_policies.resolution import SignIn

log = logging.getLogger("mfagate.signin")

SIGN_IN_KEY = "mfagate.sign_in"
#: The sign-in's own login flow must start this soon after the sign-in to count as "that very
#: sign-in" for an AMR matching duration of ``0m``.
SIGN_IN_FLOW_WINDOW = dt.timedelta(minutes=10)
#: An IdP ``auth_time`` this far in the future is clock skew; further is nonsense.
AUTH_TIME_SKEW = dt.timedelta(minutes=2)


def _dt(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc)


def connection_for_provider(provider_id: str) -> str:
    """The key of the enterprise connection signing in through ``provider_id`` (the database keeps
    provider ids unique). None — or a local connection carrying that id — records a key that no
    organization can exempt."""
    key = Connection.objects.enterprise().filter(provider_id=provider_id).values_list("key", flat=True).first()
    return key or f"unregistered:{provider_id}"


def clean_amr(value: Any) -> tuple[str, ...]:
    """The IdP's ``amr`` as a tuple of strings. A non-list is rejected (treated as empty, logged);
    non-string items are dropped. Values are kept exactly (RFC 8176 values are case-sensitive)."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        log.warning("rejected an amr claim that is not a list: %r", value)
        return ()
    cleaned = tuple(dict.fromkeys(v for v in value if isinstance(v, str) and v))
    if len(cleaned) != len(value):
        log.warning("dropped non-string or repeated amr values from %r", value)
    return cleaned


def clean_auth_time(value: Any, *, now: dt.datetime) -> dt.datetime:
    """The IdP's ``auth_time`` when present and sane (a number, not in the future beyond a small
    skew), else ``now``. Never later than ``now``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if value is not None:
            log.warning("ignored an auth_time that is not a number: %r", value)
        return now
    try:
        at = _dt(float(value))
    except (OverflowError, OSError, ValueError):
        log.warning("ignored an auth_time out of range: %r", value)
        return now
    if at > now + AUTH_TIME_SKEW:
        log.warning("ignored an auth_time in the future: %s", at.isoformat())
        return now
    return min(at, now)


def record_sign_in(request, *, connection: str, amr: Any = (), auth_time: Any = None) -> None:
    """Remember how this browser session signed in. Call right after Django's ``login()`` (which
    rotated the session key and, through ``user_logged_in``, made the runtime forget app sessions
    granted under an earlier sign-in)."""
    now = clock.now()
    request.session[SIGN_IN_KEY] = {
        "connection": connection,
        "amr": list(clean_amr(amr)),
        "at": clean_auth_time(auth_time, now=now).timestamp(),
        "signed_in_at": now.timestamp(),
        "fresh": True,
    }


def sign_in_context(request, *, now: dt.datetime, consume: bool) -> SignIn:
    """The resolver's :class:`SignIn` for this session. ``consume=True`` marks the sign-in's own
    login flow as done, so a ``0m`` AMR duration accepts the IdP's MFA once only.

    A session without a sign-in record (it should not happen: every login records one) has no
    connection and no ``amr``, so no exemption or AMR match can apply to it.
    """
    record = request.session.get(SIGN_IN_KEY)
    if not isinstance(record, dict):
        return SignIn(connection="", amr=(), authenticated_at=None, in_sign_in_flow=False)
    fresh = bool(record.get("fresh")) and now - _dt(record.get("signed_in_at", 0)) < SIGN_IN_FLOW_WINDOW
    if consume and record.get("fresh"):
        record = {**record, "fresh": False}
        request.session[SIGN_IN_KEY] = record
    return SignIn(
        connection=record.get("connection", ""),
        amr=clean_amr(record.get("amr")),
        authenticated_at=_dt(record["at"]) if record.get("at") is not None else None,
        in_sign_in_flow=fresh,
    )
