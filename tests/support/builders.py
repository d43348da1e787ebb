"""Builders for the pure resolver's input: small, explicit, no database."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from mfa_policies import constants as c
from mfa_policies import resolution as r

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)
H = dt.timedelta(hours=1)

EVERYONE = (r.Rule(c.SELECTOR_EVERYONE),)


def mfa(mode=c.MODE_INHERIT, kinds=(), duration=None) -> r.MfaConfig:
    return r.MfaConfig(mode=mode, allowed_authenticators=frozenset(kinds), session_duration=duration)


def custom(*kinds, duration=H) -> r.MfaConfig:
    return mfa(c.MODE_CUSTOM, kinds, duration)


DISABLED = mfa(c.MODE_DISABLED)


def policy(name="Everyone", decision=c.ALLOW, include=EVERYONE, require=(), exclude=(), mfa_config=None, id=None):
    return r.PolicySettings(id=id, name=name, decision=decision, include=tuple(include), require=tuple(require),
                            exclude=tuple(exclude), mfa=mfa_config or mfa())


def org(**kw) -> r.OrganizationSettings:
    kw.setdefault("allowed_authenticators", frozenset({c.TOTP, c.SECURITY_KEY}))
    kw.setdefault("mfa_required_for_all_apps", True)
    for key in ("allowed_authenticators", "exempt_roles", "exempt_connections"):
        if key in kw:
            kw[key] = frozenset(kw[key])
    return r.OrganizationSettings(id=1, name="Demo", **kw)


def app(mfa_config=None, **kw) -> r.ApplicationSettings:
    return r.ApplicationSettings(id=1, name=kw.pop("name", "Application A"), mfa=mfa_config or mfa(), **kw)


def user(email="u@demo.test", roles=(), enrolled=(), member=True) -> r.UserFacts:
    return r.UserFacts(email=email, is_member=member, roles=frozenset(roles), enrolled_kinds=frozenset(enrolled))


def sign_in(connection="password", amr=(), at=None, in_flow=False) -> r.SignIn:
    return r.SignIn(connection=connection, amr=tuple(amr), authenticated_at=at, in_sign_in_flow=in_flow)


def request(*, environment=None, organization=None, application=None, policies=None, user_=None, sign_in_=None,
            sessions=(), now=NOW) -> r.AccessRequest:
    return r.AccessRequest(
        environment=environment or r.EnvironmentSettings(c.ENV_NO, frozenset({c.TOTP, c.SECURITY_KEY})),
        organization=organization or org(),
        application=application or app(),
        policies=tuple(policies if policies is not None else (policy(),)),
        user=user_ or user(),
        sign_in=sign_in_ or sign_in(),
        mfa_sessions=tuple(sessions),
        now=now,
    )


def env(requirement=c.ENV_NO, kinds=(c.TOTP, c.SECURITY_KEY)) -> r.EnvironmentSettings:
    return r.EnvironmentSettings(mfa_requirement=requirement, allowed_authenticators=frozenset(kinds))


def session(kind, ago, authenticator_id="a1") -> r.MfaSession:
    return r.MfaSession(kind=kind, verified_at=NOW - ago, authenticator_id=authenticator_id)


__all__ = ["replace"]
