"""Reads: the database turned into the resolver's input.

:func:`access_request_for` builds an :class:`~mfa_policies.resolution.AccessRequest` in a fixed
number of queries (six), however many policies, roles, memberships or organizations exist. What
the user has enrolled is not configuration: the caller (the runtime, the launcher) passes the
user's ``enrolled_kinds``, read by :func:`enrollment.selectors.enrolled_kinds` (one query).

The input has two parts. :func:`configuration_input` is the configuration's — environment,
organization with its exemptions, application, ordered policies — the same for every user until
the configuration changes, so the runtime keeps it per configuration generation and hands it back
(``configuration=``); then only the user's facts are read (one query).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from . import generation
from . import resolution as r
from .durations import parse_duration
from .models import (AppPolicy, Application, ConfigurationGeneration, Connection, EnrollmentGraceUse, Environment,
                     Membership, Organization)


def _kinds(value) -> frozenset[str]:
    return frozenset(value or ())


def _mfa_config(obj) -> r.MfaConfig:
    return r.MfaConfig(
        mode=obj.mfa_mode,
        allowed_authenticators=_kinds(obj.mfa_allowed_authenticators),
        session_duration=parse_duration(obj.mfa_session_duration) if obj.mfa_session_duration else None,
    )


def _rules(rules: Iterable[dict]) -> tuple[r.Rule, ...]:
    return tuple(r.Rule(selector=rule["selector"], value=rule.get("value", "")) for rule in rules or ())


def environment_settings(env: Environment | None = None) -> r.EnvironmentSettings:
    env = env or Environment.load()
    return r.EnvironmentSettings(
        mfa_requirement=env.mfa_requirement, allowed_authenticators=_kinds(env.allowed_authenticators)
    )


def organization_settings(org: Organization, *, exempt_roles: frozenset[str] | None = None,
                          exempt_connections: frozenset[str] | None = None) -> r.OrganizationSettings:
    """One organization's settings: two queries for its exemptions unless they are given."""
    if exempt_roles is None:
        exempt_roles = frozenset(org.exempt_roles.values_list("key", flat=True))
    if exempt_connections is None:
        exempt_connections = frozenset(org.exempt_connections.enterprise().values_list("key", flat=True))
    return r.OrganizationSettings(
        id=org.pk,
        name=org.name,
        mfa_required_for_all_apps=org.mfa_required_for_all_apps,
        allowed_authenticators=_kinds(org.allowed_authenticators),
        session_duration=parse_duration(org.session_duration),
        amr_matching_enabled=org.amr_matching_enabled,
        amr_session_duration=parse_duration(org.amr_session_duration),
        has_required_aaguids=org.required_aaguids_id is not None,
        exempt_roles=exempt_roles,
        exempt_connections=exempt_connections,
        enrollment_grace_until=org.enrollment_grace_until,
        enrollment_grace_sign_ins=org.enrollment_grace_sign_ins,
    )


def application_settings(app: Application) -> r.ApplicationSettings:
    return r.ApplicationSettings(
        id=app.pk,
        name=app.name,
        session_duration=parse_duration(app.session_duration),
        mfa=_mfa_config(app),
        config_version=app.config_version,
    )


def _policy_settings(policy) -> r.PolicySettings:
    return r.PolicySettings(
        id=policy.pk,
        name=policy.name,
        decision=policy.decision,
        include=_rules(policy.include),
        require=_rules(policy.require),
        exclude=_rules(policy.exclude),
        mfa=_mfa_config(policy),
    )


def policies_for(app: Application) -> r.Policies:
    """The app's policies in precedence order: one query. A :class:`~.resolution.Policies`, which
    the resolver indexes once — the runtime keeps it per configuration generation."""
    rows = AppPolicy.objects.filter(application=app).select_related("policy").order_by("precedence")
    return r.Policies(_policy_settings(row.policy) for row in rows)


def _grace_used(user, organization_id) -> Subquery:
    """How many times ``user`` skipped enrollment in the organization (a subquery, so reading it
    costs the login flow no query of its own)."""
    return Subquery(EnrollmentGraceUse.objects.filter(user=user, organization_id=organization_id)
                    .values("sign_ins_used")[:1])


def user_facts(user, org: Organization | int, *, enrolled_kinds: frozenset[str],
               grace_counted: bool = True) -> r.UserFacts:
    """Membership, roles and grace-period skips in ``org`` (an organization or its id): one query.
    ``grace_counted=False`` (the organization has no grace period by sign-ins) leaves the skips out."""
    org_id = org.pk if isinstance(org, Organization) else org
    rows = Membership.objects.filter(user=user, organization_id=org_id)
    if grace_counted:
        rows = rows.annotate(grace_used=_grace_used(user, org_id)).values_list("roles__key", "grace_used")
    else:
        rows = rows.values_list("roles__key", Value(0))
    rows = list(rows)
    return r.UserFacts(
        email=user.email,
        is_member=bool(rows),
        roles=frozenset(key for key, _ in rows if key),
        enrolled_kinds=frozenset(enrolled_kinds),
        grace_sign_ins_used=max((used or 0 for _, used in rows), default=0),
        is_privileged=bool(user.is_staff or user.is_superuser),
    )


@dataclass(frozen=True)
class ConfigurationInput:
    """The configuration's part of the resolver's input for one application: what every user
    opening it shares until the configuration changes."""

    environment: r.EnvironmentSettings
    organization: r.OrganizationSettings
    application: r.ApplicationSettings
    policies: tuple[r.PolicySettings, ...]
    #: The environment generation (:mod:`.generation`) this input is at least as new as; the
    #: runtime sets it (0: not known).
    environment_generation: int = 0


def configuration_input(application: Application | int) -> ConfigurationInput:
    """The configuration's input for ``application``: five queries (six by id), however many
    policies it has. Raises ``Application.DoesNotExist`` for an id that is gone."""
    if not isinstance(application, Application):
        application = Application.objects.select_related("organization").get(pk=application)
    return ConfigurationInput(
        environment=environment_settings(),
        organization=organization_settings(application.organization),
        application=application_settings(application),
        policies=policies_for(application),
    )


def application_versions(application_id: int) -> tuple[int, int] | None:
    """The application's ``config_version`` and the environment generation, as the database holds
    them, ``None`` when the application is gone: one query by primary key."""
    environment = (ConfigurationGeneration.objects.filter(scope=generation.ENVIRONMENT)
                   .values("generation")[:1])
    return (Application.objects.filter(pk=application_id).order_by()
            .annotate(environment_generation=Coalesce(Subquery(environment), 0))
            .values_list("config_version", "environment_generation").first())


def access_request_for(
    *,
    user,
    application: Application | int | None = None,
    sign_in: r.SignIn,
    enrolled_kinds: frozenset[str],
    mfa_sessions: Iterable[r.MfaSession] = (),
    now: dt.datetime,
    configuration: ConfigurationInput | None = None,
) -> r.AccessRequest:
    """The resolver's input for ``user`` opening ``application``: six queries at most; one when
    the caller hands the application's ``configuration`` (:func:`configuration_input`)."""
    if configuration is None:
        configuration = configuration_input(application)
    return r.AccessRequest(
        environment=configuration.environment,
        organization=configuration.organization,
        application=configuration.application,
        policies=configuration.policies,
        user=user_facts(user, configuration.organization.id, enrolled_kinds=enrolled_kinds,
                        grace_counted=configuration.organization.enrollment_grace_sign_ins is not None),
        sign_in=sign_in,
        mfa_sessions=tuple(mfa_sessions),
        now=now,
    )


def access_requests_for_user(
    *, user, sign_in: r.SignIn, enrolled_kinds: frozenset[str], mfa_sessions: Iterable[r.MfaSession] = (),
    now: dt.datetime,
) -> list[tuple[Application, r.AccessRequest]]:
    """The resolver's input for ``user`` opening each application of each organization they are a
    member of (the App Launcher's question), in six queries however many there are."""
    roles_by_org: dict[int, set[str]] = defaultdict(set)
    grace_used: dict[int, int] = {}
    for org_id, key, used in (Membership.objects.filter(user=user)
                              .annotate(grace_used=_grace_used(user, OuterRef("organization_id")))
                              .values_list("organization_id", "roles__key", "grace_used")):
        roles_by_org[org_id].update([key] if key else [])
        grace_used[org_id] = used or 0
    if not roles_by_org:
        return []
    apps = list(Application.objects.filter(organization_id__in=list(roles_by_org))
                .select_related("organization").order_by("organization__name", "name"))
    org_ids = {app.organization_id for app in apps}
    exempt_roles: dict[int, set[str]] = defaultdict(set)
    for org_id, key in Organization.exempt_roles.through.objects.filter(
            organization_id__in=org_ids).values_list("organization_id", "role__key"):
        exempt_roles[org_id].add(key)
    exempt_connections: dict[int, set[str]] = defaultdict(set)
    for org_id, key in Organization.exempt_connections.through.objects.filter(
            organization_id__in=org_ids, connection__in=Connection.objects.enterprise(),
    ).values_list("organization_id", "connection__key"):
        exempt_connections[org_id].add(key)
    policies: dict[int, list[r.PolicySettings]] = defaultdict(list)
    for row in AppPolicy.objects.filter(application__in=apps).select_related("policy").order_by(
            "application_id", "precedence"):
        policies[row.application_id].append(_policy_settings(row.policy))
    environment = environment_settings()
    kinds = frozenset(enrolled_kinds)
    sessions = tuple(mfa_sessions)
    return [
        (app, r.AccessRequest(
            environment=environment,
            organization=organization_settings(app.organization,
                                               exempt_roles=frozenset(exempt_roles[app.organization_id]),
                                               exempt_connections=frozenset(exempt_connections[app.organization_id])),
            application=application_settings(app),
            policies=tuple(policies[app.pk]),
            user=r.UserFacts(email=user.email, is_member=True, roles=frozenset(roles_by_org[app.organization_id]),
                             enrolled_kinds=kinds, grace_sign_ins_used=grace_used.get(app.organization_id, 0),
                             is_privileged=bool(user.is_staff or user.is_superuser)),
            sign_in=sign_in,
            mfa_sessions=sessions,
            now=now,
        ))
        for app in apps
    ]


def organization_members_with_mfa_count(organization) -> int:
    """How many members of ``organization`` hold an enrolled authenticator — the users seed 000
    warns about when enforcement is switched off ("may cause breaking changes")."""
    return (Membership.objects.filter(organization=organization, user__authenticators__isnull=False)
            .values("user_id").distinct().count())
