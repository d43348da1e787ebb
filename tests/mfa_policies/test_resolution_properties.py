"""Invariants of the resolver, checked by hypothesis over generated configurations."""

from __future__ import annotations

import datetime as dt

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mfa_policies import constants as c
from mfa_policies import resolution as r
from tests.support.builders import NOW

KINDS = st.frozensets(st.sampled_from(c.AUTHENTICATOR_KINDS))
DURATIONS = st.integers(min_value=0, max_value=720 * 60).map(lambda m: dt.timedelta(minutes=m))
ROLES = ("admin", "billing", "viewer", "ops")
CONNECTIONS = ("password", "email_otp", "okta", "entra")
AMR = st.lists(st.sampled_from(sorted(c.AMR_TO_KIND) + ["pwd", "mfa", "pop", "HWK", "sms"]), max_size=4).map(tuple)


def mfa_configs(mode=None):
    modes = st.just(mode) if mode else st.sampled_from([c.MODE_INHERIT, c.MODE_CUSTOM, c.MODE_DISABLED])
    return st.builds(
        lambda m, kinds, d: r.MfaConfig(mode=m, allowed_authenticators=kinds if m == c.MODE_CUSTOM else frozenset(),
                                        session_duration=d if m == c.MODE_CUSTOM else None),
        modes, KINDS.filter(bool), DURATIONS,
    )


rules = st.one_of(
    st.just(r.Rule("everyone")),
    st.sampled_from(ROLES).map(lambda v: r.Rule("role", v)),
    st.sampled_from(CONNECTIONS).map(lambda v: r.Rule("connection", v)),
    st.sampled_from(["u@demo.test", "x@demo.test"]).map(lambda v: r.Rule("email", v)),
    st.sampled_from(["mfa", "hwk", "otp"]).map(lambda v: r.Rule("auth_method", v)),
)


def policies(mfa=None, decision=None):
    return st.builds(
        lambda name, d, inc, req, exc, m: r.PolicySettings(id=None, name=name, decision=d, include=tuple(inc),
                                                           require=tuple(req), exclude=tuple(exc), mfa=m),
        st.sampled_from(["P1", "P2", "P3"]),
        st.just(decision) if decision is not None else st.sampled_from([c.ALLOW, c.ALLOW, c.DENY, c.BYPASS]),
        st.lists(rules, min_size=1, max_size=2), st.lists(rules, max_size=1), st.lists(rules, max_size=1),
        mfa if mfa is not None else mfa_configs(),
    )


organizations = st.builds(
    lambda enforce, kinds, d, amr_on, amr_d, aaguids, er, ec: r.OrganizationSettings(
        id=1, name="Org", mfa_required_for_all_apps=enforce and bool(kinds), allowed_authenticators=kinds,
        session_duration=d, amr_matching_enabled=amr_on and not aaguids, amr_session_duration=amr_d,
        has_required_aaguids=aaguids, exempt_roles=er, exempt_connections=ec),
    st.booleans(), KINDS, DURATIONS, st.booleans(), DURATIONS, st.booleans(),
    st.frozensets(st.sampled_from(ROLES)), st.frozensets(st.sampled_from(CONNECTIONS)),
)


def requests(policy_strategy=None, app_mfa=None, user_roles=None, org_strategy=None, env_requirement=None):
    return st.builds(
        lambda env_req, env_kinds, org, app_mfa_, pols, roles, enrolled, member, conn, amr, ago, sess: r.AccessRequest(
            environment=r.EnvironmentSettings(env_req, env_kinds),
            organization=org,
            application=r.ApplicationSettings(id=1, name="App", mfa=app_mfa_),
            policies=tuple(pols),
            user=r.UserFacts(email="u@demo.test", is_member=member, roles=roles, enrolled_kinds=enrolled),
            sign_in=r.SignIn(connection=conn, amr=amr, authenticated_at=NOW - ago),
            mfa_sessions=tuple(r.MfaSession(kind=k, verified_at=NOW - d) for k, d in sess),
            now=NOW,
        ),
        env_requirement if env_requirement is not None else st.sampled_from([c.ENV_NO, c.ENV_YES, c.ENV_OPTIONAL]),
        KINDS.filter(bool),
        org_strategy if org_strategy is not None else organizations,
        app_mfa if app_mfa is not None else mfa_configs(),
        st.lists(policy_strategy if policy_strategy is not None else policies(), min_size=1, max_size=3),
        user_roles if user_roles is not None else st.frozensets(st.sampled_from(ROLES)),
        KINDS,
        st.booleans(),
        st.sampled_from(CONNECTIONS),
        AMR,
        DURATIONS,
        st.lists(st.tuples(st.sampled_from(c.AUTHENTICATOR_KINDS), DURATIONS), max_size=3),
    )


@settings(max_examples=300)
@given(requests(policy_strategy=policies(mfa=mfa_configs(c.MODE_DISABLED))))
def test_a_policy_that_disables_mfa_never_requires_it(request):
    decision = r.resolve(request)
    assert not decision.mfa_required
    assert decision.satisfied_by in (r.NOT_REQUIRED, None)


@settings(max_examples=300)
@given(requests(policy_strategy=policies(mfa=mfa_configs(c.MODE_CUSTOM), decision=c.ALLOW)))
def test_a_connection_exemption_never_applies_when_the_policy_is_custom(request):
    decision = r.resolve(request)
    if decision.outcome == c.ALLOW:
        assert decision.mfa_required and decision.decided_by == "policy"
        assert all(step.level != "exemption" for step in decision.trail)


@settings(max_examples=300)
@given(requests(policy_strategy=policies(mfa=mfa_configs(c.MODE_INHERIT), decision=c.ALLOW),
                app_mfa=mfa_configs(c.MODE_CUSTOM)))
def test_a_connection_exemption_never_applies_when_the_app_is_custom(request):
    decision = r.resolve(request)
    if decision.outcome == c.ALLOW:
        assert decision.mfa_required and decision.decided_by == "application"
        assert all(step.level != "exemption" for step in decision.trail)


@settings(max_examples=300)
@given(
    requests(policy_strategy=policies(mfa=mfa_configs(c.MODE_INHERIT), decision=c.ALLOW),
             app_mfa=mfa_configs(c.MODE_INHERIT)),
    st.frozensets(st.sampled_from(ROLES), min_size=1),
    st.frozensets(st.sampled_from(ROLES), min_size=1),
)
def test_mixed_exempt_and_non_exempt_roles_always_require_mfa_when_the_org_does(request, exempt, non_exempt):
    non_exempt = non_exempt - exempt
    assume(non_exempt)
    org = request.organization
    org = r.OrganizationSettings(**{**org.__dict__, "mfa_required_for_all_apps": True,
                                    "allowed_authenticators": org.allowed_authenticators or frozenset({c.TOTP}),
                                    "exempt_roles": exempt,
                                    "exempt_connections": org.exempt_connections - {request.sign_in.connection}})
    user = r.UserFacts(email=request.user.email, is_member=True, roles=exempt | non_exempt,
                       enrolled_kinds=request.user.enrolled_kinds)
    everyone = r.PolicySettings(id=None, name="Everyone", include=(r.Rule("everyone"),))
    request = r.AccessRequest(**{**request.__dict__, "organization": org, "user": user, "policies": (everyone,)})
    decision = r.resolve(request)
    assert decision.outcome == c.ALLOW
    assert decision.mfa_required


@settings(max_examples=300)
@given(requests())
def test_the_resolver_never_allows_without_a_matching_allow_or_bypass_policy_and_always_explains(request):
    decision = r.resolve(request)
    assert decision.trail, "every decision has a trail"
    if decision.allowed:
        assert decision.policy is not None
        assert request.user.is_member
    if decision.mfa_required:
        assert decision.allowed_authenticators, "a requirement always names its methods"
        assert decision.satisfied_by in (r.BY_AMR, r.BY_MFA_SESSION, r.PROMPT, r.ENROLL)
    if decision.satisfied_by == r.BY_AMR:
        assert request.organization.amr_matching_enabled and not request.organization.has_required_aaguids
