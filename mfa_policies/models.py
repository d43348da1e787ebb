"""The domain of spec §2: environment, organizations, roles, connections, applications,
policies and AAGUID lists.

Models hold data and call :mod:`mfa_policies.validation` from ``clean()``; every rule about
what a valid configuration is lives there, so forms, the admin and the API give the same
messages. ``clean()`` reads what a rule needs to know about the rest of the configuration and
hands it to the (pure) rule. Writes that must be audited go through :mod:`mfa_policies.services`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from . import clock
from . import constants as c
from . import validation
from .messages import message


def _new_account_id() -> str:
    return uuid.uuid4().hex


class Environment(models.Model):
    """The single environment row (seed 000 "Configure environment-level MFA settings")."""

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK, editable=False)
    mfa_requirement = models.CharField(
        "Multi-factor auth", max_length=8, choices=c.ENV_REQUIREMENT_CHOICES, default=c.ENV_NO
    )
    allowed_authenticators = models.JSONField(
        "default methods", default=list, blank=True,
        help_text="Used by organizations that choose no methods of their own while MFA is required here.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "environment"
        verbose_name_plural = "environment"

    def __str__(self) -> str:
        return f"Environment (MFA: {self.get_mfa_requirement_display()})"

    def save(self, *args, **kwargs):
        self.pk = self.SINGLETON_PK
        if self._state.adding and type(self).objects.filter(pk=self.pk).exists():
            self._state.adding = False  # there is one row: this save replaces it
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "Environment":
        obj, _ = cls.objects.get_or_create(pk=cls.SINGLETON_PK)
        return obj

    def clean(self):
        validation.raise_if_errors(validation.environment_errors(self))


class Role(models.Model):
    """An environment-wide role, assigned per organization through a membership."""

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=150)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name or self.key


class ConnectionQuerySet(models.QuerySet):
    def enterprise(self):
        """Enterprise (OIDC and SAML) connections: the only ones that can be exempt or carry a
        provider id (seed 000) — a password can never skip MFA."""
        return self.filter(kind__in=c.ENTERPRISE_CONNECTION_KINDS)


class Connection(models.Model):
    """A way to sign in. OIDC and SAML connections are *enterprise* connections."""

    objects = ConnectionQuerySet.as_manager()

    key = models.SlugField(max_length=64, unique=True, help_text="Recorded on every sign-in, e.g. password, okta.")
    name = models.CharField(max_length=150)
    kind = models.CharField(max_length=16, choices=c.CONNECTION_KIND_CHOICES)
    provider_id = models.CharField(
        max_length=64, blank=True,
        help_text="For enterprise connections: the django-allauth provider id that signs in through it.",
    )

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["provider_id"], condition=~models.Q(provider_id=""),
                                    name="connection_provider_id_unique"),
        ]

    def __str__(self) -> str:
        return self.name or self.key

    def clean(self):
        taken = (Connection.objects.filter(provider_id=self.provider_id).exclude(pk=self.pk)
                 .values_list("key", flat=True).first() if self.provider_id else None)
        validation.raise_if_errors(validation.connection_errors(self, provider_id_taken_by=taken))

    @property
    def is_enterprise(self) -> bool:
        return self.kind in c.ENTERPRISE_CONNECTION_KINDS


class AaguidList(models.Model):
    """A list of type AAGUID (seed 002 "Create an AAGUID list")."""

    LIST_TYPE = "AAGUID"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("Organization", on_delete=models.CASCADE, related_name="aaguid_lists")
    name = models.CharField("List name", max_length=150)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "MFA AAGUIDs list"
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="aaguid_list_name_unique_per_org"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        validation.raise_if_errors(validation.aaguid_list_errors(self))


class AaguidItem(models.Model):
    aaguid_list = models.ForeignKey(AaguidList, on_delete=models.CASCADE, related_name="items")
    value = models.CharField(
        "MFA AAGUIDs", max_length=32,
        help_text="32 hexadecimal characters without dashes, e.g. 8c39ee867f9a4a959ba3f6b097e5c2ee.",
    )
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["value"]
        constraints = [
            models.UniqueConstraint(fields=["aaguid_list", "value"], name="aaguid_item_unique_per_list"),
        ]

    def __str__(self) -> str:
        return f"{self.value} {self.description}".strip()

    def clean_fields(self, exclude=None):
        # Normalise before the length check, so dashed and upper-case AAGUIDs are accepted. A form
        # that already refused the value excludes it: one message, not a second about “”.
        if exclude is None or "value" not in exclude:
            try:
                self.value = validation.normalize_aaguid(self.value)
            except ValueError as exc:
                validation.raise_if_errors({"value": [str(exc)]})
        super().clean_fields(exclude=exclude)


class Organization(models.Model):
    """A tenant, and the "account" of the API, with its MFA configuration (spec §2)."""

    name = models.CharField(max_length=150)
    account_id = models.CharField(max_length=32, unique=True, default=_new_account_id, editable=False)
    auth_domain = models.CharField(max_length=253, blank=True)
    mfa_required_for_all_apps = models.BooleanField(
        "Enforce multi-factor authentication for this organization",
        default=False,
        help_text="Also called “Apply global MFA settings by default”.",
    )
    allowed_authenticators = models.JSONField(
        "Methods", default=list, blank=True,
        help_text="Empty means independent MFA is off for this organization.",
    )
    session_duration = models.CharField(
        "Authentication duration", max_length=16, default=c.DEFAULT_DURATION, blank=True
    )
    amr_matching_enabled = models.BooleanField("Use identity provider MFA", default=False)
    amr_session_duration = models.CharField(
        "AMR matching duration", max_length=16, default=c.DEFAULT_DURATION, blank=True
    )
    required_aaguids = models.ForeignKey(
        # RESTRICT, not PROTECT: a list an organization requires cannot be deleted on its own, but
        # goes with the organization (its lists are its own) when the organization is deleted.
        AaguidList, null=True, blank=True, on_delete=models.RESTRICT, related_name="+",
        verbose_name="AAGUID list",
    )
    exempt_roles = models.ManyToManyField(Role, blank=True, related_name="+")
    exempt_connections = models.ManyToManyField(Connection, blank=True, related_name="+")
    recovery_codes_enabled = models.BooleanField(
        "Allow recovery codes", default=True,
        help_text="Users with an authenticator may generate single-use recovery codes to get back in "
        "when they lose it.",
    )
    enrollment_grace_until = models.DateTimeField(
        "Users who have not enrolled may skip enrollment until", null=True, blank=True,
        help_text="Empty: no grace period by date. With a number of sign-ins too, the grace period ends "
        "when the first of the two runs out.",
    )
    enrollment_grace_sign_ins = models.PositiveSmallIntegerField(
        "Users who have not enrolled may skip enrollment for this many sign-ins", null=True, blank=True,
        help_text="1 to 100; empty: no grace period by number of sign-ins. Each “Set up later” counts as "
        "one sign-in. With a date too, the grace period ends when the first of the two runs out.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def independent_mfa_enabled(self) -> bool:
        return bool(self.allowed_authenticators)

    def clean_fields(self, exclude=None):
        # The grace period's number of sign-ins is validation's to judge (1 to 100, in its words):
        # Django's range checks of the column would refuse the same values a second time, less helpfully.
        super().clean_fields(exclude={*(exclude or ()), "enrollment_grace_sign_ins"})

    def clean(self):
        validation.raise_if_errors(validation.organization_errors(self, now=clock.now(), **self._validation_facts()))

    def _validation_facts(self) -> dict:
        if not self.pk:
            return {}
        customs = []
        if not self.allowed_authenticators:
            customs = [f"application “{name}”" for name in Application.objects.filter(
                organization=self, mfa_mode=c.MODE_CUSTOM).order_by("name").values_list("name", flat=True)]
            customs += [f"policy “{name}”" for name in Policy.objects.filter(
                organization=self, mfa_mode=c.MODE_CUSTOM).order_by("name").values_list("name", flat=True)]
        stored = Organization.objects.filter(pk=self.pk).values_list(
            "mfa_required_for_all_apps", "enrollment_grace_until").first() or (False, None)
        was_enforced = bool(stored[0])
        return {
            "stored_grace_until": stored[1],
            "custom_mfa_owners": customs,
            "was_enforced": was_enforced,
            "environment_requires_mfa": (was_enforced and not self.mfa_required_for_all_apps
                                         and Environment.load().mfa_requirement == c.ENV_YES),
            "aaguid_list_organization_id": (AaguidList.objects.filter(pk=self.required_aaguids_id)
                                            .values_list("organization_id", flat=True).first()
                                            if self.required_aaguids_id else None),
        }


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    roles = models.ManyToManyField(Role, blank=True, related_name="memberships")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_user_and_org"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization}"


class EnrollmentGraceUse(models.Model):
    """How many times a user has skipped enrollment in an organization's grace period (“Set up
    later”). Written only by :func:`mfa_policies.services.enrollment_grace_skip`, which audits it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    sign_ins_used = models.PositiveSmallIntegerField(default=0)
    last_skipped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "enrollment grace use"
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_grace_use_per_user_and_org"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization}: {self.sign_ins_used} skipped"


class MfaConfigFields(models.Model):
    """The three-mode ``mfa_config`` shared by applications and policies (seed 001)."""

    mfa_mode = models.CharField("MFA", max_length=8, choices=c.MFA_MODE_CHOICES, default=c.MODE_INHERIT)
    mfa_allowed_authenticators = models.JSONField("MFA methods", default=list, blank=True)
    mfa_session_duration = models.CharField("Authentication duration", max_length=16, blank=True)

    class Meta:
        abstract = True

    def mfa_config_errors(self) -> dict[str, list[str]]:
        return validation.mfa_config_errors(
            mode=self.mfa_mode,
            allowed=self.mfa_allowed_authenticators,
            duration=self.mfa_session_duration,
            organization=self.organization if self.organization_id else None,
        )


class Application(MfaConfigFields):
    """An application of one organization, covering URL path prefixes of this site."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="applications")
    public_id = models.UUIDField(
        "API id", default=uuid.uuid4, unique=True, editable=False,
        help_text="The application's id in the REST API (a UUID, as Cloudflare's clients expect); the integer "
        "primary key stays the id the runtime, the JWT audience and the admin use.",
    )
    name = models.CharField(max_length=150)
    path_prefixes = models.JSONField(
        default=list, blank=True,
        help_text="Paths this application covers, e.g. /demo/a/. The longest matching prefix wins.",
    )
    session_duration = models.CharField(
        "App session duration", max_length=16, default=c.DEFAULT_DURATION, blank=True
    )
    policies = models.ManyToManyField("Policy", through="AppPolicy", related_name="applications", blank=True)
    config_version = models.PositiveBigIntegerField(
        default=1, editable=False,
        help_text="Raised whenever the configuration governing this app changes; app sessions "
        "granted under an older version re-run the login flow.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="app_name_unique_per_org"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        errors = self.mfa_config_errors()
        errors.update(validation.application_errors(self, prefix_owners=self._prefix_owners()))
        validation.raise_if_errors(errors)

    def _prefix_owners(self) -> dict[str, str]:
        """Path prefix → name, for the prefixes this application claims that another one covers."""
        wanted = set(p for p in self.path_prefixes if isinstance(p, str)) if isinstance(self.path_prefixes, list) else set()
        if not wanted:
            return {}
        owners = {}
        for other in Application.objects.exclude(pk=self.pk).only("name", "path_prefixes"):
            for prefix in other.path_prefixes or []:
                if prefix in wanted:
                    owners[prefix] = other.name
        return owners


class Policy(MfaConfigFields):
    """An access policy: a decision, rules, and its own ``mfa_config``."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="policies")
    public_id = models.UUIDField(
        "API id", default=uuid.uuid4, unique=True, editable=False,
        help_text="The policy's id in the REST API (a UUID); the integer primary key stays the internal id.",
    )
    name = models.CharField(max_length=150)
    decision = models.CharField(max_length=8, choices=c.DECISION_CHOICES, default=c.ALLOW)
    include = models.JSONField(default=list, blank=True, help_text="At least one must match.")
    require = models.JSONField(default=list, blank=True, help_text="Every one must match.")
    exclude = models.JSONField(default=list, blank=True, help_text="None may match.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization__name", "name"]
        verbose_name_plural = "policies"
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="policy_name_unique_per_org"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        errors = self.mfa_config_errors()
        errors.update(validation.policy_errors(self, role_keys=self._existing_keys(Role, c.SELECTOR_ROLE),
                                               connection_keys=self._existing_keys(Connection, c.SELECTOR_CONNECTION)))
        validation.raise_if_errors(errors)

    def _existing_keys(self, model, selector: str) -> set[str]:
        """Which of the keys this policy's rules name for ``selector`` exist (no query when none)."""
        named = set().union(*(validation.rule_values(getattr(self, f), selector) for f in ("include", "require", "exclude")))
        return set(model.objects.filter(key__in=named).values_list("key", flat=True)) if named else set()


class AppPolicy(models.Model):
    """A policy attached to an application, tried in ascending ``precedence``."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="app_policies")
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="app_policies")
    precedence = models.PositiveIntegerField()

    class Meta:
        ordering = ["application", "precedence"]
        verbose_name = "attached policy"
        verbose_name_plural = "attached policies"
        constraints = [
            models.UniqueConstraint(fields=["application", "precedence"], name="app_policy_precedence_unique"),
            models.UniqueConstraint(fields=["application", "policy"], name="app_policy_once_per_app"),
        ]

    def __str__(self) -> str:
        return f"{self.application} #{self.precedence}: {self.policy}"

    def clean(self):
        if self.application_id and self.policy_id and self.application.organization_id != self.policy.organization_id:
            validation.raise_if_errors(
                {"policy": [message("attach_across_organizations")]}
            )


class ConfigurationGeneration(models.Model):
    """The database's side of the configuration generation (see :mod:`mfa_policies.generation`).

    Scope ``*`` holds the counter every configuration change raises in its own transaction (taking
    its row lock, so changes commit in generation order); ``org:<id>`` and ``all`` hold the
    generation at which that organization — or everything — last changed, and ``environment`` the
    last environment-wide change's (the environment generation app sessions carry). No foreign
    key: a deleted organization's row is what tells processes to forget its applications.
    """

    scope = models.CharField(max_length=32, primary_key=True)
    generation = models.PositiveBigIntegerField(db_index=True)

    class Meta:
        verbose_name = "configuration generation"

    def __str__(self) -> str:
        return f"{self.scope}: {self.generation}"
