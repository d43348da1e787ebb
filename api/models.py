"""API tokens: a name, the hash of the secret (never the secret), an owner, an account, scopes."""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from mfa_policies import clock
from mfa_policies.messages import message

from .scopes import SCOPES

TOKEN_PREFIX = "mfagate_"
KEY_ID_LENGTH = 12


def hash_token(plaintext: str) -> str:
    """SHA-256 of the whole token. The secret is 256 random bits, so a fast hash is enough (a
    slow password hash protects guessable secrets, and a token is not guessable)."""
    return hashlib.sha256(plaintext.encode("utf-8", "surrogatepass")).hexdigest()


class ApiToken(models.Model):
    """A bearer token for ``/client/v4/accounts/<account_id>/``.

    The plaintext (``mfagate_<key_id><secret>``) is shown once, at creation; only ``key_id`` (to
    find the row) and ``secret_hash`` are stored. A token works on one organization only, acts as
    its ``owner`` (an admin: audit rows name them), and only within its ``scopes``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=150)
    key_id = models.CharField(max_length=KEY_ID_LENGTH, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens",
        limit_choices_to={"is_staff": True}, help_text="The admin the token acts as; audit rows name them.",
    )
    organization = models.ForeignKey(
        "mfa_policies.Organization", on_delete=models.CASCADE, related_name="api_tokens",
        help_text="The account the token works on.",
    )
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id}…)"

    def clean(self):
        errors = {}
        if not isinstance(self.scopes, list) or any(s not in SCOPES for s in self.scopes):
            errors["scopes"] = [message("token_scopes_unknown", choices=", ".join(SCOPES))]
        elif not self.scopes:
            errors["scopes"] = [message("token_needs_scope")]
        if self.owner_id and not (self.owner.is_staff and self.owner.is_active):
            errors["owner"] = [message("token_owner_not_admin")]
        if errors:
            raise ValidationError(errors)

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= clock.now():
            return "expired"
        return "active"

    def is_usable(self) -> bool:
        return self.status == "active" and self.owner.is_active and self.owner.is_staff


class StoredFields(models.Model):
    """What the API keeps about one object beyond mfagate's configuration (exactly one of the four
    links is set):

    - ``fields``: the Cloudflare fields mfagate does not act on, exactly as last sent (see
      :mod:`api.shapes`), so they are returned unchanged;
    - ``orders``: the order lists were last sent in (``allowed_authenticators``, exempt roles,
      AAGUID items…). The configuration keeps its canonical order; answers use the one sent
      while it still lists the same values;
    - ``aliases``: which of two names for one field the last write used
      (``amr_matching_session_duration``), so the answer speaks the client's name too.

    Deleting the object deletes this row.
    """

    organization = models.OneToOneField("mfa_policies.Organization", null=True, blank=True,
                                        on_delete=models.CASCADE, related_name="+")
    application = models.OneToOneField("mfa_policies.Application", null=True, blank=True,
                                       on_delete=models.CASCADE, related_name="+")
    policy = models.OneToOneField("mfa_policies.Policy", null=True, blank=True,
                                  on_delete=models.CASCADE, related_name="+")
    aaguid_list = models.OneToOneField("mfa_policies.AaguidList", null=True, blank=True,
                                       on_delete=models.CASCADE, related_name="+")
    fields = models.JSONField(default=dict, blank=True)
    orders = models.JSONField(default=dict, blank=True)
    aliases = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "stored API fields"
        verbose_name_plural = "stored API fields"
        constraints = [
            models.CheckConstraint(
                name="stored_fields_one_object",
                condition=(
                    models.Q(organization__isnull=False, application__isnull=True, policy__isnull=True,
                             aaguid_list__isnull=True)
                    | models.Q(organization__isnull=True, application__isnull=False, policy__isnull=True,
                               aaguid_list__isnull=True)
                    | models.Q(organization__isnull=True, application__isnull=True, policy__isnull=False,
                               aaguid_list__isnull=True)
                    | models.Q(organization__isnull=True, application__isnull=True, policy__isnull=True,
                               aaguid_list__isnull=False)
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"API fields of {self.organization or self.application or self.policy or self.aaguid_list}"
