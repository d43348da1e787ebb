"""Verifying a user with one of their enrolled authenticators — the API the MFA challenge page
(``/mfa/verify/``) and the portal's step-up both call.

Contract, for every function here:

- Verification is **throttled per account** across all authenticators (see
  :mod:`enrollment.throttle`); a refused attempt counts as a failure, a success resets.
- **Verifying changes state**: a TOTP code is accepted at most once (its step is recorded), a
  WebAuthn challenge is consumed by the first response posted for it, and the authenticator's
  ``last_used_at`` (and for WebAuthn its sign count) is updated.
- Failures raise :class:`VerificationError` with a ``message`` to show the user and a ``code``:
  ``invalid_code``, ``replayed``, ``throttled``, ``no_device`` or ``webauthn_failed``.
- These functions do **not** record an MFA session or rotate the session key: that is the
  caller's business (the challenge page records the MFA session, step-up opens its window).
- Every verification that tested a code or an assertion is **audited**: ``mfa.verified`` or
  ``mfa.verification_failed``, with ``after = {kind, authenticator_id, authenticator_name,
  purpose, reason}`` (``reason`` on failures only), the user as actor and subject and the client
  address. A failure's row and its throttle count commit together, in their own transaction,
  before the error is raised, so the error page the caller shows cannot roll them back. An attempt
  refused *before* testing anything — throttled or locked, or no authenticator of the kind — is
  not recorded: it tested no secret, and recording it would let a flood of refused requests grow
  the log without bound (the delay and the lock are recorded once each by the throttle).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Iterable

from django.db import transaction

from accounts.audit import audit_record
from mfa_policies import clock
from mfa_policies import constants as c

from . import throttle, totp
from . import webauthn as wa
from .messages import MESSAGES, EnrollmentError
from .models import Authenticator
from .notices import client_ip

logger = logging.getLogger("mfagate.verification")

WEBAUTHN_KINDS = (c.SECURITY_KEY, c.BIOMETRICS)
#: What a verification was for, as the audit log names it. WebAuthn purposes are the session keys
#: of their challenges (``enrollment.views.STEP_UP_PURPOSE``, the MFA challenge's own).
CHALLENGE, STEP_UP = "challenge", "step_up"


class VerificationError(Exception):
    """A refused verification. ``code`` is machine-readable, ``message`` is for the user;
    ``reason`` is the detailed key in :data:`enrollment.messages.MESSAGES`."""

    def __init__(self, code: str, message: str, reason: str = ""):
        self.code = code
        self.message = message
        self.reason = reason or code
        super().__init__(message)


def _check_throttle(user) -> None:
    try:
        throttle.check_allowed(user)
    except EnrollmentError as exc:
        raise VerificationError("throttled", exc.message, exc.code) from None


def _audit_purpose(purpose: str) -> str:
    return STEP_UP if purpose == STEP_UP else CHALLENGE


def _audit_verification(*, request, user, action: str, kind: str | None, authenticator: Authenticator | None,
                        purpose: str, reason: str = "") -> None:
    after = {
        "kind": kind,
        "authenticator_id": str(authenticator.pk) if authenticator else None,
        "authenticator_name": authenticator.name if authenticator else None,
        "purpose": _audit_purpose(purpose),
    }
    if reason:
        after["reason"] = reason
    audit_record(actor=user, action=action, obj=authenticator or user, subject_user=user,
                 ip_address=client_ip(request), after=after)


def _failed(*, request, user, kind, authenticator, purpose: str, error: VerificationError) -> VerificationError:
    """Record a failed verification — its audit row and its throttle count, committed together
    unless the caller holds a transaction — and return the error to raise."""
    with transaction.atomic():
        _audit_verification(request=request, user=user, action="mfa.verification_failed", kind=kind,
                            authenticator=authenticator, purpose=purpose, reason=error.reason)
        throttle.record_failure(user, request=request)
    return error


def totp_verify(*, request, user, code: str, purpose: str = CHALLENGE) -> Authenticator:
    """Accept ``code`` from the user's authenticator application, once. Returns the Authenticator.
    ``purpose`` (:data:`CHALLENGE` or :data:`STEP_UP`) is what the audit row says it was for."""
    _check_throttle(user)
    authenticator = Authenticator.objects.filter(user=user, kind=c.TOTP).first()
    if authenticator is None or authenticator.totp_device_id is None:
        raise VerificationError("no_device", MESSAGES["no_device"])
    failed = dict(request=request, user=user, kind=c.TOTP, authenticator=authenticator, purpose=purpose)
    if totp.normalize_code(code) is None:
        raise _failed(**failed, error=VerificationError("invalid_code", MESSAGES["totp_code_format"],
                                                        "totp_code_format"))
    try:
        totp.verify_device(device_id=authenticator.totp_device_id, code=code)
    except totp.CodeRefused as refused:
        key = "totp_replayed" if refused.reason == "replayed" else "totp_invalid_code"
        raise _failed(**failed, error=VerificationError(refused.reason, MESSAGES[key], key)) from None
    now = clock.now()
    with transaction.atomic():
        throttle.record_success(user)
        Authenticator.objects.filter(pk=authenticator.pk).update(last_used_at=now)
        authenticator.last_used_at = now
        _audit_verification(request=request, user=user, action="mfa.verified", kind=c.TOTP,
                            authenticator=authenticator, purpose=purpose)
    return authenticator


def _webauthn_authenticators(user, kinds: Iterable[str]) -> list[Authenticator]:
    wanted = [k for k in kinds if k in WEBAUTHN_KINDS]
    return list(Authenticator.objects.filter(user=user, kind__in=wanted).order_by("created_at"))


def webauthn_assertion_options(*, request, user, kinds, purpose: str) -> dict:
    """Request options for the user's enrolled WebAuthn authenticators of ``kinds``.

    Stores a single-use challenge in ``request.session`` under ``purpose`` (valid 5 minutes);
    a later call for the same purpose replaces it.
    """
    authenticators = _webauthn_authenticators(user, kinds)
    if not authenticators:
        raise VerificationError("no_device", MESSAGES["no_device"])
    return wa.authentication_options(request=request, purpose=purpose, authenticators=authenticators)


def _parse(credential: Any) -> Any:
    if isinstance(credential, (bytes, str)):
        try:
            return json.loads(credential)
        except (ValueError, UnicodeDecodeError):
            return None
    return credential


def webauthn_assertion_verify(*, request, user, kinds, purpose: str, credential: Any) -> Authenticator:
    """Verify a ``navigator.credentials.get()`` response (dict or JSON string) for ``purpose``.

    The challenge is consumed whatever the outcome. Returns the Authenticator that answered.
    """
    try:
        _check_throttle(user)
    except VerificationError:
        wa.discard_challenge(request, purpose)
        raise
    authenticators = _webauthn_authenticators(user, kinds)
    try:
        result = wa.verify_authentication(
            request=request,
            purpose=purpose,
            credential=_parse(credential),
            authenticators=authenticators,
            user_handle=user.pk.bytes,
        )
        with transaction.atomic():
            row = Authenticator.objects.select_for_update().get(pk=result.authenticator.pk)
            # Re-check under the row lock: a concurrent assertion may have moved the counter.
            if (result.new_sign_count or row.sign_count) and result.new_sign_count <= row.sign_count:
                logger.warning("WebAuthn sign count did not increase for authenticator %s", row.pk)
                raise wa.WebAuthnError("webauthn_sign_count")
            row.sign_count = result.new_sign_count
            row.backup_state = result.backup_state
            row.last_used_at = clock.now()
            row.save(update_fields=["sign_count", "backup_state", "last_used_at"])
    except wa.WebAuthnError as exc:
        answered = _answering(credential, authenticators)
        tried = {a.kind for a in authenticators}
        kind = answered.kind if answered else (tried.pop() if len(tried) == 1 else None)
        raise _failed(request=request, user=user, kind=kind, authenticator=answered, purpose=purpose,
                      error=VerificationError("webauthn_failed", exc.message, exc.code)) from None
    with transaction.atomic():
        throttle.record_success(user)
        _audit_verification(request=request, user=user, action="mfa.verified", kind=row.kind, authenticator=row,
                            purpose=purpose)
    return row


def _answering(credential: Any, authenticators: list[Authenticator]) -> Authenticator | None:
    """Which of the user's own authenticators a refused response named, for the audit row (a
    response naming someone else's credential or none names no authenticator)."""
    data = _parse(credential)
    credential_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(credential_id, str):
        return None
    return next((a for a in authenticators if a.credential_id == credential_id), None)
