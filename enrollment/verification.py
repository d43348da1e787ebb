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
"""

from __future__ import annotations

import json
import logging
from typing import Any, Iterable

from django.db import transaction

from mfa_policies import clock
from mfa_policies import constants as c

from . import throttle, totp
from . import webauthn as wa
from .messages import MESSAGES, EnrollmentError
from .models import Authenticator

logger = logging.getLogger("mfagate.verification")

WEBAUTHN_KINDS = (c.SECURITY_KEY, c.BIOMETRICS)


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


def totp_verify(*, request, user, code: str) -> Authenticator:
    """Accept ``code`` from the user's authenticator application, once. Returns the Authenticator."""
    _check_throttle(user)
    authenticator = Authenticator.objects.filter(user=user, kind=c.TOTP).first()
    if authenticator is None or authenticator.totp_device_id is None:
        raise VerificationError("no_device", MESSAGES["no_device"])
    if totp.normalize_code(code) is None:
        throttle.record_failure(user)
        raise VerificationError("invalid_code", MESSAGES["totp_code_format"], "totp_code_format")
    try:
        totp.verify_device(device_id=authenticator.totp_device_id, code=code)
    except totp.CodeRefused as refused:
        throttle.record_failure(user)
        key = "totp_replayed" if refused.reason == "replayed" else "totp_invalid_code"
        raise VerificationError(refused.reason, MESSAGES[key], key) from None
    throttle.record_success(user)
    now = clock.now()
    Authenticator.objects.filter(pk=authenticator.pk).update(last_used_at=now)
    authenticator.last_used_at = now
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
        throttle.record_failure(user)
        raise VerificationError("webauthn_failed", exc.message, exc.code) from None
    throttle.record_success(user)
    return row
