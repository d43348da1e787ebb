"""Every row of spec §3.5, as the resolver sees it (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from mfa_policies import constants as c
from mfa_policies import resolution as r
from tests.support.builders import DISABLED, EVERYONE, H, app, custom, env, org, policy, request, session, sign_in, user

TOTP, KEY, BIO = c.TOTP, c.SECURITY_KEY, c.BIOMETRICS

# --- seed 001 precedence example -------------------------------------------------------------
ORG = org(allowed_authenticators={TOTP, KEY}, session_duration=dt.timedelta(hours=24), mfa_required_for_all_apps=True)
POLICY_1 = policy("Policy 1", include=[r.Rule("email", "p1@demo.test")], mfa_config=custom(KEY, duration=H))
POLICY_2 = policy("Policy 2", include=[r.Rule("email", "p2@demo.test")], mfa_config=DISABLED)
EVERYONE_POLICY = policy("Everyone", include=EVERYONE)
APP_A = app(name="Application A")
APP_B = app(name="Application B", mfa_config=DISABLED)


def precedence(email, application, enrolled=(TOTP, KEY, BIO), sessions=()):
    return r.resolve(request(
        organization=ORG, application=application,
        policies=(POLICY_1, POLICY_2, EVERYONE_POLICY) if application is APP_A else (EVERYONE_POLICY,),
        user_=user(email, roles={"viewer"}, enrolled=enrolled), sessions=sessions,
    ))


@pytest.mark.parametrize(
    "email, application, required, kinds, duration, decided_by, policy_name",
    [
        pytest.param("p1@demo.test", APP_A, True, (KEY,), H, "policy", "Policy 1", id="policy-1-on-A"),
        pytest.param("p2@demo.test", APP_A, False, (), None, "policy", "Policy 2", id="policy-2-on-A"),
        pytest.param("other@demo.test", APP_A, True, (TOTP, KEY), 24 * H, "organization", "Everyone",
                     id="neither-policy-on-A"),
        pytest.param("p1@demo.test", APP_B, False, (), None, "application", "Everyone", id="anyone-on-B-p1"),
        pytest.param("other@demo.test", APP_B, False, (), None, "application", "Everyone", id="anyone-on-B-other"),
    ],
)
def test_precedence_example(email, application, required, kinds, duration, decided_by, policy_name):
    decision = precedence(email, application)
    assert decision.outcome == c.ALLOW
    assert decision.mfa_required is required
    assert decision.allowed_authenticators == kinds
    assert decision.session_duration == duration
    assert decision.decided_by == decided_by
    assert decision.policy == policy_name
    assert decision.satisfied_by == (r.PROMPT if required else r.NOT_REQUIRED)


def test_policy_1_prompts_again_after_one_hour_and_only_for_a_security_key():
    fresh = precedence("p1@demo.test", APP_A, sessions=[session(KEY, dt.timedelta(minutes=59))])
    assert fresh.satisfied_by == r.BY_MFA_SESSION
    expired = precedence("p1@demo.test", APP_A, sessions=[session(KEY, dt.timedelta(minutes=60))])
    assert expired.satisfied_by == r.PROMPT and expired.prompt_kinds == (KEY,)
    totp_only = precedence("p1@demo.test", APP_A, sessions=[session(TOTP, dt.timedelta(minutes=1))])
    assert totp_only.satisfied_by == r.PROMPT, "a TOTP session must not satisfy a keys-only policy"


def test_neither_policy_keeps_a_24_hour_mfa_session_with_totp_or_key():
    for kind in (TOTP, KEY):
        ok = precedence("other@demo.test", APP_A, sessions=[session(kind, dt.timedelta(hours=23, minutes=59))])
        assert ok.satisfied_by == r.BY_MFA_SESSION
    stale = precedence("other@demo.test", APP_A, sessions=[session(TOTP, dt.timedelta(hours=24))])
    assert stale.satisfied_by == r.PROMPT


# --- seed 000 ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "environment, enforce, roles, exempt_roles, connection, enrolled, required, decided_by",
    [
        pytest.param("no", True, {"admin"}, {"admin"}, "password", (), False, "exemption", id="exempt-role"),
        pytest.param("no", True, {"admin", "billing"}, {"admin"}, "password", (), True, "organization",
                     id="mixed-roles"),
        pytest.param("no", True, {"admin"}, set(), "okta", (), False, "exemption", id="exempt-connection"),
        pytest.param("yes", False, {"viewer"}, set(), "password", (), True, "environment", id="environment-yes"),
        pytest.param("no", False, {"viewer"}, set(), "password", (), False, "organization", id="nobody-requires"),
        pytest.param("optional", False, {"viewer"}, set(), "password", (TOTP,), True, "organization",
                     id="optional-opted-in"),
        pytest.param("optional", False, {"viewer"}, set(), "password", (), False, "environment",
                     id="optional-nothing-enrolled"),
    ],
)
def test_seed_000_table(environment, enforce, roles, exempt_roles, connection, enrolled, required, decided_by):
    decision = r.resolve(request(
        environment=env(environment),
        organization=org(mfa_required_for_all_apps=enforce, exempt_roles=exempt_roles, exempt_connections={"okta"}),
        user_=user(roles=roles, enrolled=enrolled),
        sign_in_=sign_in(connection),
    ))
    assert decision.outcome == c.ALLOW
    assert decision.mfa_required is required
    assert decision.decided_by == decided_by
    if required:
        assert decision.allowed_authenticators == (TOTP, KEY)
        assert decision.satisfied_by in (r.PROMPT, r.ENROLL)
    else:
        assert decision.satisfied_by == r.NOT_REQUIRED


def test_every_decision_explains_itself_with_a_trail_naming_levels():
    decision = precedence("other@demo.test", APP_A)
    levels = [step.level for step in decision.trail]
    assert levels[:3] == ["policy", "policy", "policy"]
    assert "organization" in levels and levels[-1] == "session"
    assert all(step.message for step in decision.trail)
