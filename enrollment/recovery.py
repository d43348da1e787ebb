"""Recovery codes: ten single-use codes a user saves for the day they lose their MFA devices
(issue 11; NIST SP 800-63B-4 "saved recovery codes"; OWASP ASVS 5.0 V6.5.2).

Contract:

- :func:`generate` needs an enrolled authenticator and the step-up window (like adding a device),
  replaces every earlier code of the user in one transaction, audits ``recovery_codes.generated``,
  e-mails the user, and returns the new codes — the only time they exist outside the user's hands.
  Only salted digests are stored (see :class:`~enrollment.models.RecoveryCode`).
- :func:`use` accepts a code once. It is throttled by the account throttle like every other
  verification (:mod:`enrollment.throttle`): checked first, a wrong, used or malformed code
  counts as a failure, a right one resets. Burning is a conditional update, so of two requests
  with the same code exactly one wins. It audits ``recovery_code.used`` (with the codes left) or
  ``recovery_code.rejected``, e-mails the user on success, and opens the step-up window in the
  request's browser session. It does **not** record an MFA session: a recovery code never
  satisfies an application's MFA requirement by itself (README "Recovery codes"); it lets the
  user enroll a new authenticator, and that enrollment is the verification.
- :func:`availability` is the one rule for whether a user may have and use codes here.

Codes are 16 characters of Crockford's base32 (``0-9`` and ``A-Z`` without ``I L O U``), 80 bits
from :mod:`secrets`, shown as ``XXXX-XXXX-XXXX-XXXX``. Input is normalised before comparing: case,
spaces and dashes are ignored, and the look-alikes Crockford defines are read as the digit they
resemble (``I``/``L`` → ``1``, ``O`` → ``0``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from accounts.audit import audit_record
from mfa_policies import clock
from mfa_policies.models import Organization

from . import selectors, step_up, throttle
from .messages import EnrollmentError, message
from .models import RecoveryCode
from .notices import client_ip as _ip
from .notices import notify as _notify

COUNT = 10
LENGTH = 16
GROUP = 4
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: 5 bits a character
_LOOK_ALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_IGNORED = str.maketrans("", "", " -\t")
#: Longer input is refused before any normalising (a code with separators is 19 characters).
MAX_INPUT = 64

OBJECT_TYPE = "enrollment.recoverycode"


# ------------------------------------------------------------------------------------- rule
@dataclass(frozen=True)
class Availability:
    """Whether recovery codes may be generated and used; ``turned_off_by`` names the
    organizations that said no (for the page's explanation)."""

    turned_off_by: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.turned_off_by

    @property
    def organizations_text(self) -> str:
        names = [f"“{name}”" for name in self.turned_off_by]
        if len(names) == 1:
            return f"your organization {names[0]}"
        return f"your organizations {', '.join(names[:-1])} and {names[-1]}"

    @property
    def explanation(self) -> str:
        """Why codes are off, for the page (empty when they are allowed)."""
        return "" if self.allowed else message("recovery_codes_off", organizations=self.organizations_text)

    def raise_unless_allowed(self) -> None:
        if not self.allowed:
            raise EnrollmentError("recovery_codes_off", organizations=self.organizations_text)


def availability(user, *, application_organization_id: int | None = None) -> Availability:
    """The rule: a user may generate and use recovery codes unless an organization they are a
    member of has turned them off (``Organization.recovery_codes_enabled``). At an application's
    MFA challenge (``application_organization_id``), that application's organization must allow
    them too. A user of no organization may use them. One query."""
    scope = Q(memberships__user=user)
    if application_organization_id is not None:
        scope |= Q(pk=application_organization_id)
    names = (Organization.objects.filter(scope, recovery_codes_enabled=False).order_by("name")
             .values_list("name", flat=True).distinct())
    return Availability(turned_off_by=tuple(names))


# ---------------------------------------------------------------------------------- the codes
def _new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def display(code: str) -> str:
    """``ABCDEFGHJKMNPQRS`` → ``ABCD-EFGH-JKMN-PQRS``."""
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def normalize(value) -> str | None:
    """The code a person typed, as generated; ``None`` when it cannot be one."""
    if not isinstance(value, str) or len(value) > MAX_INPUT or not value.isascii():
        return None  # non-ASCII first: str.upper() maps some letters ("ı", "ſ") onto ASCII ones
    code = value.translate(_IGNORED).upper().translate(_LOOK_ALIKES)
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def _digest(salt_hex: str, code: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt_hex) + code.encode("ascii")).hexdigest()


def _row(user, code: str, now) -> RecoveryCode:
    salt = secrets.token_hex(16)
    return RecoveryCode(user=user, salt=salt, digest=_digest(salt, code), created_at=now)


# ------------------------------------------------------------------------------------- reads
def remaining(user) -> int:
    """How many of the user's codes are still unused."""
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def has_codes(user) -> bool:
    """Has the user generated a set (used up or not)?"""
    return RecoveryCode.objects.filter(user=user).exists()


# ------------------------------------------------------------------------------------ writes
def _audit_codes(*, actor, user, request, action: str, before: dict | None = None, after: dict | None = None) -> None:
    """An audit row about ``user``'s set of codes, inside the caller's transaction."""
    audit_record(actor=actor, action=action, object_type=OBJECT_TYPE, object_id=str(user.pk),
                 object_label=f"Recovery codes of {user.email}"[:254], subject_user=user,
                 ip_address=_ip(request), before=before, after=after)


def revoke_with_last_device(*, request, actor, user) -> int:
    """Inside the caller's transaction, once ``user``'s last authenticator is gone: delete their
    recovery codes (audited ``recovery_codes.revoked``). Codes are a backup *for* devices; kept,
    they would come back to life with the next device enrolled — after an administrator's reset
    because the account was taken over, in the hands of whoever took it. Returns how many went."""
    if selectors.has_devices(user):
        return 0
    unused = remaining(user)
    deleted = RecoveryCode.objects.filter(user=user).delete()[0]
    if deleted:
        _audit_codes(actor=actor, user=user, request=request, action="recovery_codes.revoked",
                     before={"codes": deleted, "remaining": unused},
                     after={"codes": 0, "remaining": 0, "reason": "last MFA device removed"})
    return deleted


def generate(*, request, acting_user) -> list[str]:
    """Replace ``acting_user``'s recovery codes with :data:`COUNT` new ones; returns them for
    display (grouped). Refused (``EnrollmentError``, nothing stored) when an organization turned
    codes off, when the user has no authenticator, or without the step-up window."""
    availability(acting_user).raise_unless_allowed()
    if not selectors.has_devices(acting_user):
        raise EnrollmentError("recovery_needs_authenticator")
    step_up.raise_unless_allowed(request, acting_user)
    codes = [_new_code() for _ in range(COUNT)]
    now = clock.now()
    with transaction.atomic():
        # The user's row lock serialises two generations: the later one replaces the earlier set.
        get_user_model().objects.select_for_update().filter(pk=acting_user.pk).first()
        before = remaining(acting_user)
        had = RecoveryCode.objects.filter(user=acting_user).delete()[0]
        RecoveryCode.objects.bulk_create([_row(acting_user, code, now) for code in codes])
        _audit_codes(actor=acting_user, user=acting_user, request=request, action="recovery_codes.generated",
                     before={"codes": had, "remaining": before} if had else None,
                     after={"codes": COUNT, "remaining": COUNT})
        _notify(acting_user, "recovery_codes_generated", count=COUNT, replaced=bool(had), at=now,
                ip_address=_ip(request))
    return [display(code) for code in codes]


def _reject(request, user, reason: str) -> None:
    failures = throttle.record_failure(user, request=request)
    with transaction.atomic():
        _audit_codes(actor=user, user=user, request=request, action="recovery_code.rejected",
                     after={"reason": reason, "consecutive_failures": failures})
    raise EnrollmentError(reason)


def use(*, request, user, code, application_organization_id: int | None = None) -> int:
    """Accept one of ``user``'s unused recovery codes, burn it, open the step-up window in
    ``request``'s browser session; returns how many codes are left.

    Refusals raise ``EnrollmentError``: ``recovery_codes_off`` (see :func:`availability`; not
    counted), ``throttled`` / ``locked`` (not counted), and, each counted as a failed verification
    and audited as ``recovery_code.rejected``: ``recovery_code_format``, ``recovery_code_invalid``
    (not one of this user's codes, or from an earlier set) and ``recovery_code_used``.

    Must not run inside an outer transaction the caller rolls back on refusal (see
    :mod:`enrollment.throttle`).
    """
    availability(user, application_organization_id=application_organization_id).raise_unless_allowed()
    throttle.check_allowed(user)
    typed = normalize(code)
    if typed is None:
        _reject(request, user, "recovery_code_format")
    match = None
    for row in RecoveryCode.objects.filter(user=user).only("pk", "salt", "digest", "used_at"):
        # Every stored code is compared, each in constant time, whichever matches.
        if hmac.compare_digest(row.digest, _digest(row.salt, typed)) and match is None:
            match = row
    if match is None:
        _reject(request, user, "recovery_code_invalid")
    if match.used_at is not None:
        _reject(request, user, "recovery_code_used")
    now = clock.now()
    with transaction.atomic():
        # The burn: of two requests with the same code, the second finds used_at set (PostgreSQL
        # re-checks the condition after the first one's commit) and updates nothing.
        burned = RecoveryCode.objects.filter(pk=match.pk, used_at__isnull=True).update(used_at=now)
        if burned == 1:
            left = remaining(user)
            audit_record(actor=user, action="recovery_code.used", obj=match, object_label=f"Recovery code of {user.email}"[:254],
                         subject_user=user, ip_address=_ip(request), after={"remaining": left})
            _notify(user, "recovery_code_used", remaining=left, at=now, ip_address=_ip(request))
    if burned != 1:
        _reject(request, user, "recovery_code_used")
    throttle.record_success(user)
    if getattr(request, "user", None) == user and getattr(request, "session", None) is not None:
        step_up.open_window(request)
    return left
