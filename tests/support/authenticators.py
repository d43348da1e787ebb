"""Helpers for enrollment and verification tests: enrolled authenticators without the UI."""

from __future__ import annotations

import pyotp
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from mfa_policies import clock
from mfa_policies import constants as c

ORIGIN = "http://localhost:8000"


def session_request(user=None, session=None, path="/", remote_addr="127.0.0.1"):
    request = RequestFactory().post(path, REMOTE_ADDR=remote_addr)
    request.session = session if session is not None else SessionStore()
    if user is not None:
        request.user = user
    return request


def step_up_request(user, path="/", remote_addr="127.0.0.1"):
    """A request of ``user``'s own browser session with the step-up window open, as the add and
    remove flows require once the user has an MFA device."""
    from enrollment import step_up

    request = session_request(user, path=path, remote_addr=remote_addr)
    step_up.open_window(request)
    return request


def enroll_totp(user, name="Phone"):
    """A confirmed TOTP authenticator; returns (authenticator, pyotp.TOTP for making codes)."""
    from enrollment import totp
    from enrollment.models import Authenticator

    key_hex = totp.new_secret()
    device = totp.create_device(user=user, key_hex=key_hex, accepted_t=0, name=name)
    authenticator = Authenticator.objects.create(
        user=user, kind=c.TOTP, name=name, created_at=clock.now(), totp_device=device
    )
    return authenticator, pyotp.TOTP(totp.base32_secret(key_hex))


def code_at(otp: "pyotp.TOTP", offset_seconds: float = 0) -> str:
    return otp.at(clock.now().timestamp() + offset_seconds)


def enroll_webauthn(user, fake, kind=c.SECURITY_KEY, name=None, **register_kwargs):
    """Register ``fake`` (a tests.support.webauthn_fakes.FakeAuthenticator) for ``user`` through the real
    enrollment/webauthn.py registration checks, and store it."""
    from enrollment import webauthn as wa
    from enrollment.models import Authenticator

    request = session_request(user)
    options = wa.registration_options(request=request, user=user, kind=kind, exclude=[], direct_attestation=False)
    origin = settings.MFAGATE_WEBAUTHN_ORIGINS[0]
    new = wa.verify_registration(request=request, credential=fake.register(options, origin=origin, **register_kwargs))
    return Authenticator.objects.create(
        user=user, kind=new.kind, name=name or c.AUTHENTICATOR_LABELS[kind], created_at=clock.now(),
        credential_id=new.credential_id, public_key=new.public_key, sign_count=new.sign_count,
        transports=new.transports, aaguid=new.aaguid, attestation_format=new.attestation_format,
        backup_eligible=new.backup_eligible, backup_state=new.backup_state,
    )


def lock_out(user, failures=None):
    """Record ``failures`` failed verifications for ``user`` (default: enough for the hard lock),
    as the challenge would after that many wrong codes."""
    from enrollment import throttle

    for _ in range(throttle.HARD_LOCK_AT if failures is None else failures):
        throttle.record_failure(user)
