"""Account-level throttling of MFA verification (SECURITY rows 3 and 4).

One consecutive-failure counter per user, shared by every authenticator (TOTP and WebAuthn) and
by every client address. After :data:`FREE_ATTEMPTS` failures each further attempt waits
``2 ** (failures - FREE_ATTEMPTS)`` seconds after the last failure, at most :data:`MAX_DELAY`;
at :data:`HARD_LOCK_AT` consecutive failures the account is locked for :data:`LOCK_COOL_DOWN`.
A success resets the counter.

Each failure that starts a delay is audited as ``throttle.delayed`` (with the wait), the one that
locks as ``throttle.locked`` (with ``locked_until``), in the same transaction as the count; the
failure that brings the count to :data:`NOTICE_AT` e-mails the user once (ASVS 6.3.5) — a
success or an unlock ends the series, so the next series mails again. Every caller of
:func:`record_failure` (TOTP, WebAuthn, recovery codes) gets these events.

Failures are recorded after the verification's own atomic block has been left, so its rollback
cannot erase them. Callers must not run verification inside an outer transaction they roll back
on failure (views answer a failed verification with a normal response, which commits).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from accounts.audit import audit_record
from mfa_policies import clock

from .messages import EnrollmentError
from .models import VerificationThrottle
from .notices import client_ip, notify

FREE_ATTEMPTS = 5
MAX_DELAY = dt.timedelta(minutes=15)
HARD_LOCK_AT = 100
LOCK_COOL_DOWN = dt.timedelta(hours=1)
#: The consecutive failure that e-mails the user "someone failed MFA verification 5 times".
NOTICE_AT = 5


def _delay(failures: int) -> dt.timedelta:
    if failures < FREE_ATTEMPTS:
        return dt.timedelta(0)
    exponent = failures - FREE_ATTEMPTS
    if exponent >= 10:  # 2**10 s > 15 min already; avoid huge numbers
        return MAX_DELAY
    return min(dt.timedelta(seconds=2**exponent), MAX_DELAY)


def _wait_text(delta: dt.timedelta) -> str:
    seconds = max(1, int(delta.total_seconds() + 0.999))
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{(seconds + 59) // 60} minutes"


def check_allowed(user) -> None:
    """Raise ``EnrollmentError("throttled" | "locked")`` if ``user`` must wait before trying."""
    row = VerificationThrottle.objects.filter(user=user).first()
    if row is None or row.consecutive_failures == 0:
        return
    now = clock.now()
    if row.locked_until and now < row.locked_until:
        raise EnrollmentError("locked", until=row.locked_until.strftime("%Y-%m-%d %H:%M UTC"))
    if row.locked_until and now >= row.locked_until:
        return  # the cool-down is over: the next attempt is allowed (a failure re-locks)
    allowed_at = (row.last_failure_at or now) + _delay(row.consecutive_failures)
    if now < allowed_at:
        raise EnrollmentError("throttled", wait=_wait_text(allowed_at - now))


def audit_event(user, request, action: str, *, actor=None, before: dict | None = None, after: dict | None = None) -> None:
    """An audit row about ``user``'s throttle (``actor``: who acted, the user by default), inside
    the caller's transaction."""
    audit_record(actor=actor if actor is not None else user, action=action,
                 object_type="enrollment.verificationthrottle", object_id=str(user.pk),
                 object_label=f"MFA verification throttle of {user.email}"[:254], subject_user=user,
                 ip_address=client_ip(request), before=before, after=after)


def record_failure(user, *, request=None) -> int:
    """Count one failed verification of ``user`` (``request``: the attempt's, for the address the
    audit log and the notice name); returns the consecutive count.

    Commits on its own when called outside a transaction; inside one, the caller must commit it
    even though the attempt failed (see the module docstring)."""
    now = clock.now()
    with transaction.atomic():
        VerificationThrottle.objects.get_or_create(user=user)
        row = VerificationThrottle.objects.select_for_update().get(user=user)
        if row.locked_until and now >= row.locked_until:
            # After the cool-down the account gets a fresh, short series before locking again.
            row.consecutive_failures = HARD_LOCK_AT - FREE_ATTEMPTS
            row.locked_until = None
        row.consecutive_failures += 1
        row.last_failure_at = now
        if row.consecutive_failures >= HARD_LOCK_AT:
            row.locked_until = now + LOCK_COOL_DOWN
        row.save()
        failures = row.consecutive_failures
        if row.locked_until:
            audit_event(user, request, "throttle.locked", after={
                "consecutive_failures": failures, "locked_until": row.locked_until.isoformat()})
        elif (wait := _delay(failures)) > dt.timedelta(0):
            audit_event(user, request, "throttle.delayed", after={
                "consecutive_failures": failures, "wait_seconds": int(wait.total_seconds()),
                "next_attempt_at": (now + wait).isoformat()})
        if failures == NOTICE_AT:
            notify(user, "verification_failures", failures=failures, at=now, ip_address=client_ip(request))
        return failures


def record_success(user) -> None:
    VerificationThrottle.objects.filter(user=user).exclude(consecutive_failures=0).update(
        consecutive_failures=0, last_failure_at=None, locked_until=None
    )


@dataclass(frozen=True)
class ThrottleState:
    """What an administrator sees of a user's throttle (the user page, ``mfa_reset_user``).

    ``next_attempt_at`` is when the next verification may be tried (``None``: now);
    ``locked_until`` is set only by the hard lock after :data:`HARD_LOCK_AT` failures.
    """

    consecutive_failures: int = 0
    last_failure_at: dt.datetime | None = None
    locked_until: dt.datetime | None = None
    next_attempt_at: dt.datetime | None = None

    @property
    def is_clear(self) -> bool:
        return self.consecutive_failures == 0

    @property
    def is_waiting(self) -> bool:
        """The user cannot try a verification right now (hard lock or growing delay)."""
        return self.next_attempt_at is not None

    def as_audit(self) -> dict:
        return {
            "consecutive_failures": self.consecutive_failures,
            "last_failure_at": self.last_failure_at.isoformat() if self.last_failure_at else None,
            "locked_until": self.locked_until.isoformat() if self.locked_until else None,
        }


def _state(row: VerificationThrottle | None) -> ThrottleState:
    if row is None or row.consecutive_failures == 0:
        return ThrottleState()
    now = clock.now()
    if row.locked_until:
        next_at = row.locked_until if now < row.locked_until else None
    else:
        allowed_at = (row.last_failure_at or now) + _delay(row.consecutive_failures)
        next_at = allowed_at if now < allowed_at else None
    return ThrottleState(consecutive_failures=row.consecutive_failures, last_failure_at=row.last_failure_at,
                         locked_until=row.locked_until, next_attempt_at=next_at)


def state_of(user) -> ThrottleState:
    """The user's throttle as :func:`check_allowed` sees it now."""
    return _state(VerificationThrottle.objects.filter(user=user).first())


def clear(user) -> ThrottleState:
    """Reset the user's counter as a success would; returns the state it had. Must run inside
    the caller's atomic block (the row is locked until it commits)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("throttle.clear must run inside the caller's transaction")
    row = VerificationThrottle.objects.select_for_update().filter(user=user).first()
    before = _state(row)
    if row is not None and not before.is_clear:
        row.consecutive_failures = 0
        row.last_failure_at = row.locked_until = None
        row.save(update_fields=["consecutive_failures", "last_failure_at", "locked_until"])
    return before
