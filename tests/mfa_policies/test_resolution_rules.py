"""Each rule of spec §3.1–3.3, one behaviour per test (pure resolver, no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from mfa_policies import constants as c
from mfa_policies import resolution as r
from tests.support.builders import (DISABLED, EVERYONE, H, NOW, app, custom, env, mfa, org, policy, request, session, sign_in,
                       user)

TOTP, KEY, BIO = c.TOTP, c.SECURITY_KEY, c.BIOMETRICS
AMR_ORG = dict(amr_matching_enabled=True, amr_session_duration=dt.timedelta(hours=1))


# §3.1 access policies --------------------------------------------------------------------------
def test_policies_are_tried_in_precedence_order_and_the_first_match_decides():
    first = policy("First", mfa_config=DISABLED)
    second = policy("Second", mfa_config=custom(KEY))
    assert r.resolve(request(policies=[first, second])).policy == "First"
    assert r.resolve(request(policies=[second, first])).policy == "Second"


def test_exclude_beats_include():
    p = policy("Staff", include=[r.Rule("email_domain", "demo.test")], exclude=[r.Rule("email", "u@demo.test")])
    decision = r.resolve(request(policies=[p]))
    assert decision.outcome == c.DENY
    assert "exclude email=u@demo.test matches" in " ".join(s.message for s in decision.trail)


def test_require_needs_every_rule():
    p = policy(require=[r.Rule("role", "admin"), r.Rule("connection", "password")])
    assert r.resolve(request(policies=[p], user_=user(roles={"admin"}))).outcome == c.ALLOW
    assert r.resolve(request(policies=[p], user_=user(roles={"viewer"}))).outcome == c.DENY


def test_include_needs_only_one_rule():
    p = policy(include=[r.Rule("email", "nobody@x.test"), r.Rule("role", "viewer")])
    assert r.resolve(request(policies=[p], user_=user(roles={"viewer"}))).outcome == c.ALLOW


def test_deny_policy_refuses_with_its_name():
    decision = r.resolve(request(policies=[policy("Block contractors", decision=c.DENY)]))
    assert decision.outcome == c.DENY and not decision.allowed
    assert decision.policy == "Block contractors"
    assert "Block contractors" in decision.refusal


def test_bypass_allows_without_identity_or_mfa_checks():
    decision = r.resolve(request(
        environment=env(c.ENV_YES), policies=[policy("Public", decision=c.BYPASS)],
    ))
    assert decision.outcome == c.BYPASS and decision.allowed
    assert decision.mfa_required is False and decision.satisfied_by == r.NOT_REQUIRED


def test_no_matching_policy_refuses():
    decision = r.resolve(request(policies=[policy(include=[r.Rule("email", "someone@else.test")])]))
    assert decision.outcome == c.DENY and decision.decided_by == "access"


def test_an_app_without_policies_refuses_everyone():
    assert r.resolve(request(policies=[])).outcome == c.DENY


def test_non_members_match_no_rule_not_even_everyone():
    decision = r.resolve(request(user_=user(member=False)))
    assert decision.outcome == c.DENY
    assert "not a member" in decision.trail[0].message


@pytest.mark.parametrize("selector, value, facts, connection, matches", [
    ("email", "U@Demo.Test", {}, "password", True),
    ("email", "v@demo.test", {}, "password", False),
    ("email_domain", "demo.test", {}, "password", True),
    ("email_domain", "@DEMO.test", {}, "password", True),
    ("email_domain", "other.test", {}, "password", False),
    ("role", "admin", {"roles": {"admin"}}, "password", True),
    ("role", "admin", {"roles": {"viewer"}}, "password", False),
    ("connection", "okta", {}, "okta", True),
    ("connection", "okta", {}, "password", False),
    ("unknown", "x", {}, "password", False),
])
def test_rule_selectors(selector, value, facts, connection, matches):
    p = policy(include=[r.Rule(selector, value)])
    decision = r.resolve(request(policies=[p], user_=user(**facts), sign_in_=sign_in(connection)))
    assert (decision.outcome == c.ALLOW) is matches


def test_auth_method_require_matches_only_the_idps_amr_of_this_sign_in():
    p = policy(require=[r.Rule("auth_method", "mfa")])
    assert r.resolve(request(policies=[p], sign_in_=sign_in("okta", amr=["pwd", "mfa"]))).outcome == c.ALLOW
    refused = r.resolve(request(policies=[p], sign_in_=sign_in("okta", amr=["pwd"])))
    assert refused.outcome == c.DENY, "signing in with another method is refused even though IdP sign-in succeeded"
    assert "[pwd]" in " ".join(s.message for s in refused.trail)
    assert r.resolve(request(policies=[p], sign_in_=sign_in("password"))).outcome == c.DENY


def test_auth_method_is_case_sensitive():
    p = policy(require=[r.Rule("auth_method", "hwk")])
    assert r.resolve(request(policies=[p], sign_in_=sign_in("okta", amr=["HWK"]))).outcome == c.DENY


# §3.2 the requirement ------------------------------------------------------------------------------
def test_policy_disabled_beats_app_custom():
    decision = r.resolve(request(application=app(mfa_config=custom(KEY)), policies=[policy(mfa_config=DISABLED)]))
    assert not decision.mfa_required and decision.decided_by == "policy"


def test_policy_custom_beats_app_disabled():
    decision = r.resolve(request(application=app(mfa_config=DISABLED), policies=[policy(mfa_config=custom(TOTP))]))
    assert decision.mfa_required and decision.allowed_authenticators == (TOTP,)


def test_app_custom_applies_when_the_policy_inherits():
    decision = r.resolve(request(application=app(mfa_config=custom(BIO, duration=2 * H))))
    assert decision.allowed_authenticators == (BIO,) and decision.session_duration == 2 * H
    assert decision.decided_by == "application"


def test_environment_yes_with_app_disabled_is_not_prompted():
    decision = r.resolve(request(environment=env(c.ENV_YES), application=app(mfa_config=DISABLED)))
    assert decision.mfa_required is False and decision.decided_by == "application"


def test_environment_yes_uses_the_environment_methods_when_the_org_has_none():
    decision = r.resolve(request(
        environment=env(c.ENV_YES, kinds=(BIO,)),
        organization=org(allowed_authenticators=(), mfa_required_for_all_apps=False),
    ))
    assert decision.mfa_required and decision.allowed_authenticators == (BIO,)


def test_organization_methods_replace_the_environment_methods():
    decision = r.resolve(request(
        environment=env(c.ENV_YES, kinds=(BIO,)), organization=org(allowed_authenticators=(TOTP,)),
    ))
    assert decision.allowed_authenticators == (TOTP,)


def test_required_without_any_method_refuses_rather_than_allowing():
    decision = r.resolve(request(
        environment=env(c.ENV_YES, kinds=()), organization=org(allowed_authenticators=(), mfa_required_for_all_apps=False),
    ))
    assert decision.outcome == c.DENY
    assert "no authenticator kinds" in decision.refusal


def test_optional_environment_counts_only_enrolled_kinds_that_are_allowed():
    base = dict(environment=env(c.ENV_OPTIONAL),
                organization=org(allowed_authenticators=(TOTP,), mfa_required_for_all_apps=False))
    assert r.resolve(request(**base, user_=user(enrolled={TOTP}))).mfa_required
    assert not r.resolve(request(**base, user_=user(enrolled={BIO}))).mfa_required


def test_exempt_connection_wins_over_non_exempt_role():
    decision = r.resolve(request(
        organization=org(exempt_connections={"okta"}, exempt_roles=()),
        user_=user(roles={"admin"}), sign_in_=sign_in("okta"),
    ))
    assert not decision.mfa_required and decision.decided_by == "exemption"


def test_a_user_without_roles_is_not_role_exempt():
    decision = r.resolve(request(organization=org(exempt_roles={"admin"}), user_=user(roles=())))
    assert decision.mfa_required


@pytest.mark.parametrize("level", ["policy", "application"])
def test_exemptions_do_not_weaken_custom_settings(level):
    exempt_everything = org(exempt_roles={"admin"}, exempt_connections={"okta"})
    kwargs = {"organization": exempt_everything, "user_": user(roles={"admin"}), "sign_in_": sign_in("okta")}
    if level == "policy":
        kwargs["policies"] = [policy(mfa_config=custom(KEY))]
    else:
        kwargs["application"] = app(mfa_config=custom(KEY))
    decision = r.resolve(request(**kwargs))
    assert decision.mfa_required and decision.decided_by == level


def test_exemptions_apply_even_when_the_environment_requires_mfa():
    decision = r.resolve(request(environment=env(c.ENV_YES), organization=org(exempt_roles={"admin"}),
                                 user_=user(roles={"admin"})))
    assert not decision.mfa_required


# §3.3 satisfying --------------------------------------------------------------------------------
@pytest.mark.parametrize("value, kind", sorted(c.AMR_TO_KIND.items()))
def test_every_listed_amr_value_satisfies_its_kind(value, kind):
    decision = r.resolve(request(
        organization=org(allowed_authenticators=(kind,), **AMR_ORG),
        sign_in_=sign_in("okta", amr=["pwd", value], at=NOW - dt.timedelta(minutes=5)),
    ))
    assert decision.satisfied_by == r.BY_AMR and decision.satisfied_kind == kind
    assert decision.amr_matched == (value,)


@pytest.mark.parametrize("value", ["pwd", "sms", "tel", "geo", "kba", "sc", "pin", "user", "mca", "rba", "wia",
                                   "pop", "fido", "mfa", "HWK", "Otp", ""])
def test_other_amr_values_are_ignored(value):
    decision = r.resolve(request(
        organization=org(allowed_authenticators=(TOTP, KEY, BIO), **AMR_ORG),
        user_=user(enrolled={TOTP}),
        sign_in_=sign_in("okta", amr=[value], at=NOW - dt.timedelta(minutes=5)),
    ))
    assert decision.satisfied_by == r.PROMPT


def test_amr_must_map_to_an_allowed_kind_of_this_requirement():
    decision = r.resolve(request(
        organization=org(**AMR_ORG), policies=[policy(mfa_config=custom(KEY))], user_=user(enrolled={KEY}),
        sign_in_=sign_in("okta", amr=["pwd", "otp"], at=NOW),
    ))
    assert decision.satisfied_by == r.PROMPT, "otp satisfies totp only, and this policy wants a security key"


def test_amr_matching_is_skipped_while_an_aaguid_list_is_set():
    decision = r.resolve(request(
        organization=org(has_required_aaguids=True, **AMR_ORG), user_=user(enrolled={KEY}),
        sign_in_=sign_in("okta", amr=["hwk"], at=NOW),
    ))
    assert decision.satisfied_by == r.PROMPT
    assert any("AAGUID" in s.message for s in decision.trail)


def test_amr_matching_off_ignores_the_claim():
    decision = r.resolve(request(user_=user(enrolled={KEY}), sign_in_=sign_in("okta", amr=["hwk"], at=NOW)))
    assert decision.satisfied_by == r.PROMPT


def test_amr_older_than_its_duration_prompts():
    base = dict(organization=org(**AMR_ORG), user_=user(enrolled={KEY}))
    fresh = r.resolve(request(**base, sign_in_=sign_in("okta", amr=["hwk"], at=NOW - dt.timedelta(minutes=59))))
    stale = r.resolve(request(**base, sign_in_=sign_in("okta", amr=["hwk"], at=NOW - H)))
    assert fresh.satisfied_by == r.BY_AMR and stale.satisfied_by == r.PROMPT


def test_amr_with_a_future_or_missing_time_prompts():
    base = dict(organization=org(**AMR_ORG), user_=user(enrolled={KEY}))
    assert r.resolve(request(**base, sign_in_=sign_in("okta", amr=["hwk"], at=NOW + H))).satisfied_by == r.PROMPT
    assert r.resolve(request(**base, sign_in_=sign_in("okta", amr=["hwk"], at=None))).satisfied_by == r.PROMPT


def test_amr_duration_0m_counts_only_on_the_sign_in_itself():
    base = dict(organization=org(amr_matching_enabled=True, amr_session_duration=dt.timedelta(0)),
                user_=user(enrolled={KEY}))
    during = r.resolve(request(**base, sign_in_=sign_in("okta", amr=["hwk"], at=NOW, in_flow=True)))
    later = r.resolve(request(**base, sign_in_=sign_in("okta", amr=["hwk"], at=NOW, in_flow=False)))
    assert during.satisfied_by == r.BY_AMR and later.satisfied_by == r.PROMPT


def test_0m_session_duration_means_mfa_on_every_login_flow():
    decision = r.resolve(request(
        policies=[policy(mfa_config=custom(TOTP, duration=dt.timedelta(0)))], user_=user(enrolled={TOTP}),
        sessions=[session(TOTP, dt.timedelta(seconds=1))],
    ))
    assert decision.satisfied_by == r.PROMPT
    assert any("0m" in s.message for s in decision.trail)


def test_an_mfa_session_from_the_future_does_not_count():
    decision = r.resolve(request(user_=user(enrolled={TOTP}), sessions=[session(TOTP, -H)]))
    assert decision.satisfied_by == r.PROMPT


def test_prompt_offers_only_enrolled_kinds_that_are_allowed():
    decision = r.resolve(request(user_=user(enrolled={TOTP, BIO})))
    assert decision.satisfied_by == r.PROMPT and decision.prompt_kinds == (TOTP,)


def test_nothing_enrolled_of_an_allowed_kind_sends_the_user_to_enroll():
    decision = r.resolve(request(user_=user(enrolled={BIO})))
    assert decision.satisfied_by == r.ENROLL and decision.needs_user_action
    assert "enroll" in decision.trail[-1].message


def test_amr_is_tried_before_the_mfa_session():
    decision = r.resolve(request(
        organization=org(**AMR_ORG), sessions=[session(TOTP, dt.timedelta(minutes=1))],
        sign_in_=sign_in("okta", amr=["otp"], at=NOW),
    ))
    assert decision.satisfied_by == r.BY_AMR


def test_inherit_mfa_config_defaults():
    assert mfa().mode == c.MODE_INHERIT
    decision = r.resolve(request(policies=[policy(include=EVERYONE)]))
    assert decision.mfa_required and decision.session_duration == dt.timedelta(hours=24)
