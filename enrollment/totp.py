"""TOTP authenticators (RFC 6238): the one module that touches django-otp's ``TOTPDevice``.

Parameters are fixed by seed 002: HMAC-SHA1, 30-second steps, 6 digits; we accept the
current step and one either side (SECURITY row 5). Time comes from :func:`mfa_policies.clock.now`
only, never from the client. Codes are compared as strings, so leading zeros matter.

Replay protection is django-otp's ``last_t``: a code is accepted only for a step later than the
last accepted one. :func:`verify_device` reads the device with ``select_for_update`` inside its
own atomic block, so two concurrent requests cannot both accept the same code (SECURITY row 2).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import segno
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from mfa_policies.app_settings import app_settings
from mfa_policies import clock

STEP = 30
DIGITS = 6
TOLERANCE = 1
SECRET_BYTES = 20  # 160 bits (NIST 800-63B §3.1.4.1)
_CODE = re.compile(r"[0-9]{6}")  # ASCII digits only: \d also matches "٣٣٣٣٣٣" (a 500 in hmac.compare_digest)


def new_secret() -> str:
    """A fresh 160-bit secret from the OS CSPRNG, as hex (django-otp's storage format)."""
    return random_hex(SECRET_BYTES)


def is_valid_secret(key_hex: str) -> bool:
    try:
        return len(binascii.unhexlify(key_hex)) >= SECRET_BYTES
    except (binascii.Error, TypeError, ValueError):
        return False


def normalize_code(code) -> str | None:
    """``" 123 456 "`` → ``"123456"``; anything that is not six digits → ``None``."""
    if not isinstance(code, str):
        return None
    code = re.sub(r"[\s-]", "", code)
    return code if _CODE.fullmatch(code) else None


def base32_secret(key_hex: str) -> str:
    return base64.b32encode(binascii.unhexlify(key_hex)).decode("ascii").rstrip("=")


def setup_key_groups(key_hex: str) -> list[str]:
    """The base32 setup key in groups of 4 characters, for typing it in by hand."""
    key = base32_secret(key_hex)
    return [key[i : i + 4] for i in range(0, len(key), 4)]


def provisioning_uri(*, key_hex: str, account: str) -> str:
    issuer = app_settings.TOTP_ISSUER
    label = quote(f"{issuer}:{account}")
    params = urlencode(
        {"secret": base32_secret(key_hex), "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": STEP}
    )
    return f"otpauth://totp/{label}?{params}"


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG (no external requests, no image files)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#111827", light="#ffffff")


@dataclass(frozen=True)
class Match:
    t: int


def match_code(*, key_hex: str, code: str, min_t: int | None = None) -> Match | None:
    """The step ``code`` belongs to, at the server's time ±1 step, later than ``min_t``; or None."""
    normalized = normalize_code(code)
    if normalized is None:
        return None
    totp = TOTP(binascii.unhexlify(key_hex), step=STEP, t0=0, digits=DIGITS, drift=0)
    totp.time = clock.now().timestamp()
    now_t = totp.t()
    for offset in (0, -1, 1):
        totp.drift = offset
        t = now_t + offset
        if min_t is not None and t < min_t:
            continue
        if hmac.compare_digest(f"{totp.token():0{DIGITS}d}", normalized):
            return Match(t=t)
    return None


def code_was_used(*, key_hex: str, code: str, last_t: int) -> bool:
    """True if ``code`` is valid now but for a step at or before ``last_t`` (a replay)."""
    found = match_code(key_hex=key_hex, code=code)
    return found is not None and found.t <= last_t


def create_device(*, user, key_hex: str, accepted_t: int, name: str) -> TOTPDevice:
    """Save the proven secret. Call inside the caller's transaction; the proving code's step
    becomes ``last_t``, so it cannot be used again for a verification."""
    return TOTPDevice.objects.create(
        user=user, name=name[:64], key=key_hex, step=STEP, t0=0, digits=DIGITS,
        tolerance=TOLERANCE, drift=0, confirmed=True, last_t=accepted_t,
    )


class CodeRefused(Exception):
    def __init__(self, reason: str):
        self.reason = reason  # "invalid_code" or "replayed"
        super().__init__(reason)


def verify_device(*, device_id: int, code: str) -> TOTPDevice:
    """Accept ``code`` for the device at most once (atomic); raise :class:`CodeRefused`."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device_id, confirmed=True)
        found = match_code(key_hex=device.key, code=code, min_t=device.last_t + 1)
        if found is None:
            reason = "replayed" if code_was_used(key_hex=device.key, code=code, last_t=device.last_t) else "invalid_code"
            raise CodeRefused(reason)
        device.last_t = found.t
        device.last_used_at = clock.now()
        device.save(update_fields=["last_t", "last_used_at"])
        return device


def delete_device(device: TOTPDevice) -> None:
    device.delete()
