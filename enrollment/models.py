"""A user's enrolled authenticators (spec §2 "Authenticator").

One row per authenticator, whatever its kind, so the portal, the admin and the API list them
the same way. A TOTP authenticator points at its django-otp ``TOTPDevice`` (which owns the
secret, the drift and the replay counter); WebAuthn authenticators keep their credential here.
At most one TOTP authenticator per user is a database constraint, not only a check.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from mfa_policies import constants as c


class Authenticator(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="authenticators")
    kind = models.CharField(max_length=16, choices=c.AUTHENTICATOR_CHOICES)
    name = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    totp_device = models.OneToOneField(
        "otp_totp.TOTPDevice", null=True, blank=True, on_delete=models.CASCADE, related_name="authenticator"
    )

    # WebAuthn credential (security_key, biometrics).
    credential_id = models.CharField(
        max_length=1400, null=True, blank=True, unique=True, help_text="base64url, unique across all users"
    )
    public_key = models.BinaryField(null=True, blank=True, editable=False)
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    aaguid = models.CharField(max_length=32, blank=True, help_text="32 lowercase hex, no dashes")
    attestation_format = models.CharField(max_length=32, blank=True)
    backup_eligible = models.BooleanField(default=False)
    backup_state = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(kind=c.TOTP), name="one_totp_per_user"),
            models.CheckConstraint(
                name="authenticator_kind_matches_secret",
                condition=(
                    Q(kind=c.TOTP, totp_device__isnull=False, credential_id__isnull=True)
                    | Q(kind__in=[c.SECURITY_KEY, c.BIOMETRICS], totp_device__isnull=True, credential_id__isnull=False)
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def is_webauthn(self) -> bool:
        return self.kind in (c.SECURITY_KEY, c.BIOMETRICS)


class VerificationThrottle(models.Model):
    """Consecutive failed MFA verifications of one account, across all its authenticators.

    Keyed on the user, never on the client address (SECURITY rows 3, 4). A success resets it;
    see :mod:`enrollment.throttle` for the delays and the hard lock.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "MFA verification throttle"

    def __str__(self) -> str:
        return f"{self.user_id}: {self.consecutive_failures} consecutive failures"


class RecoveryCode(models.Model):
    """One single-use recovery code of a user (issue 11; NIST SP 800-63B-4 "saved recovery codes").

    Only a salted SHA-256 digest is stored: ``sha256(salt || code)`` with a random 16-byte salt per
    code. A slow password hash is unnecessary here because the code is not chosen by a person: it
    holds 80 bits from a CSPRNG (:mod:`enrollment.recovery`), so even with the table in hand a
    brute-force search costs about 2**80 hashes per code, and the per-code salt stops any
    precomputation across codes or users. Online guessing is bounded by the account throttle.

    ``used_at`` is set once, by a conditional update (``... WHERE used_at IS NULL``), which is what
    makes a code single-use under concurrency; a used row is kept so the user can be told "already
    used". Regenerating deletes every row of the user.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    salt = models.CharField(max_length=32, editable=False, help_text="16 random bytes, hex")
    digest = models.CharField(max_length=64, editable=False, help_text="SHA-256 of salt and code, hex")
    created_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["user", "used_at"], name="recovery_code_user_used")]

    def __str__(self) -> str:
        return f"recovery code of {self.user_id} ({'used' if self.used_at else 'unused'})"
