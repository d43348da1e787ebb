"""Reads: the database turned into the resolver's input.

:func:`access_request_for` builds an :class:`~mfa_policies.resolution.AccessRequest` in a fixed
number of queries (seven), however many policies, roles, memberships or organizations exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

from . import resolution as r
from .durations import parse_duration
from .models import AppPolicy, Application, Connection, Environment, Membership, Organization


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


def organization_settings(org: Organization) -> r.OrganizationSettings:
    """One organization's settings: two queries for its exemptions."""
    return r.OrganizationSettings(
        id=org.pk,
        name=org.name,
        mfa_required_for_all_apps=org.mfa_required_for_all_apps,
        allowed_authenticators=_kinds(org.allowed_authenticators),
        session_duration=parse_duration(org.session_duration),
        amr_matching_enabled=org.amr_matching_enabled,
        amr_session_duration=parse_duration(org.amr_session_duration),
        has_required_aaguids=org.required_aaguids_id is not None,
        exempt_roles=frozenset(org.exempt_roles.values_list("key", flat=True)),
        exempt_connections=frozenset(org.exempt_connections.values_list("key", flat=True)),
    )


def application_settings(app: Application) -> r.ApplicationSettings:
    return r.ApplicationSettings(
        id=app.pk,
        name=app.name,
        session_duration=parse_duration(app.session_duration),
        mfa=_mfa_config(app),
        config_version=app.config_version,
    )


def policies_for(app: Application) -> tuple[r.PolicySettings, ...]:
    """The app's policies in precedence order: one query."""
    rows = AppPolicy.objects.filter(application=app).select_related("policy").order_by("precedence")
    return tuple(
        r.PolicySettings(
            id=row.policy.pk,
            name=row.policy.name,
            decision=row.policy.decision,
            include=_rules(row.policy.include),
            require=_rules(row.policy.require),
            exclude=_rules(row.policy.exclude),
            mfa=_mfa_config(row.policy),
        )
        for row in rows
    )


def user_facts(user, org: Organization) -> r.UserFacts:
    """Membership, roles in ``org`` and enrolled kinds: two queries."""
    from enrollment.models import Authenticator

    role_rows = list(
        Membership.objects.filter(user=user, organization=org).values_list("roles__key", flat=True)
    )
    kinds = Authenticator.objects.filter(user=user).order_by().values_list("kind", flat=True).distinct()
    return r.UserFacts(
        email=user.email,
        is_member=bool(role_rows),
        roles=frozenset(key for key in role_rows if key),
        enrolled_kinds=frozenset(kinds),
    )


def access_request_for(
    *,
    user,
    application: Application | int,
    sign_in: r.SignIn,
    mfa_sessions: Iterable[r.MfaSession] = (),
    now: dt.datetime,
) -> r.AccessRequest:
    """The resolver's input for ``user`` opening ``application``: seven queries at most."""
    if not isinstance(application, Application):
        application = Application.objects.select_related("organization").get(pk=application)
    org = application.organization
    return r.AccessRequest(
        environment=environment_settings(),
        organization=organization_settings(org),
        application=application_settings(application),
        policies=policies_for(application),
        user=user_facts(user, org),
        sign_in=sign_in,
        mfa_sessions=tuple(mfa_sessions),
        now=now,
    )


def connection_for_key(key: str) -> Connection | None:
    return Connection.objects.filter(key=key).first()
