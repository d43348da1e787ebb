"""The enrollment grace period in the resolver: who may skip enrollment, for how long, and what the
trail says. Pure: no database."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfa_policies import constants as c
from mfa_policies import resolution as r
from tests.mfa_policies.test_resolution_properties import requests
from tests.support.builders import NOW, app, custom, org, policy, request, user

DAY = dt.timedelta(days=1)
DEC_1 = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


def _with_grace(*, until=None, sign_ins=None, used=0, enrolled=(), **org_kw):
    organization = org(enrollment_grace_until=until, enrollment_grace_sign_ins=sign_ins, **org_kw)
    facts = replace(user(enrolled=enrolled), grace_sign_ins_used=used)
    return request(organization=organization, user_=facts)


@pytest.mark.parametrize("until, sign_ins, used, left", [
    (DEC_1, None, 0, r.Grace(until=DEC_1)),
    (None, 3, 0, r.Grace(sign_ins_left=3)),
    (None, 3, 2, r.Grace(sign_ins_left=1)),
    (DEC_1, 3, 1, r.Grace(until=DEC_1, sign_ins_left=2)),
])
def test_a_user_who_must_enroll_may_skip_while_the_grace_period_lasts(until, sign_ins, used, left):
    decision = r.resolve(_with_grace(until=until, sign_ins=sign_ins, used=used))
    assert decision.satisfied_by == r.ENROLL and decision.outcome == c.ALLOW
    assert decision.grace == left


@pytest.mark.parametrize("until, sign_ins, used, ended", [
    (NOW, None, 0, "ended on 22 Nov 2026, 12:00 UTC"),
    (NOW - DAY, 5, 0, "ended on 21 Nov 2026, 12:00 UTC"),   # the date ran out first
    (None, 2, 2, "is used up (2 sign-ins skipped)"),
    (None, 1, 7, "is used up (1 sign-in skipped)"),
    (DEC_1, 2, 2, "is used up (2 sign-ins skipped)"),         # the sign-ins ran out first
])
def test_once_either_limit_runs_out_enrollment_is_required(until, sign_ins, used, ended):
    decision = r.resolve(_with_grace(until=until, sign_ins=sign_ins, used=used))
    assert decision.satisfied_by == r.ENROLL and decision.grace is None
    assert decision.trail[-1] == r.Step(
        r.ORGANIZATION, f"organization “Demo”’s grace period {ended}; enrollment is required")


def test_the_trail_names_the_organization_and_what_remains():
    decision = r.resolve(_with_grace(until=DEC_1, sign_ins=3, used=0))
    assert decision.trail[-1] == r.Step(
        r.ORGANIZATION, "organization “Demo” lets users who have not enrolled skip enrollment until "
                        "1 Dec 2026, 00:00 UTC or for 3 more sign-ins, whichever ends first")
    one = r.resolve(_with_grace(sign_ins=3, used=2))
    assert one.trail[-1].message.endswith("skip enrollment for 1 more sign-in")
    by_date = r.resolve(_with_grace(until=DEC_1 + dt.timedelta(hours=14, minutes=30)))
    assert by_date.trail[-1].message.endswith("skip enrollment until 1 Dec 2026, 14:30 UTC")


def test_no_grace_period_adds_no_step():
    decision = r.resolve(_with_grace())
    assert decision.grace is None
    assert all("grace" not in step.message for step in decision.trail)


def test_a_user_with_an_allowed_kind_enrolled_is_prompted_not_offered_grace():
    decision = r.resolve(_with_grace(sign_ins=3, enrolled=[c.TOTP]))
    assert decision.satisfied_by == r.PROMPT and decision.grace is None
    assert all("grace" not in step.message and "skip" not in step.message for step in decision.trail)


def test_a_user_whose_enrolled_kind_the_app_does_not_accept_may_skip():
    """p1's case: an authenticator application enrolled, the policy wants a security key."""
    organization = org(enrollment_grace_sign_ins=2)
    decision = r.resolve(request(organization=organization, user_=user(enrolled=[c.TOTP]),
                                 policies=[policy(mfa_config=custom(c.SECURITY_KEY))]))
    assert decision.satisfied_by == r.ENROLL and decision.grace == r.Grace(sign_ins_left=2)


def test_grace_never_turns_a_denying_policy_into_an_allow():
    organization = org(enrollment_grace_sign_ins=5)
    decision = r.resolve(request(organization=organization, policies=[policy(decision=c.DENY)]))
    assert decision.outcome == c.DENY and decision.grace is None


def test_grace_is_not_offered_when_mfa_is_not_required():
    organization = org(enrollment_grace_sign_ins=5, mfa_required_for_all_apps=False)
    decision = r.resolve(request(organization=organization))
    assert decision.satisfied_by == r.NOT_REQUIRED and decision.grace is None


def test_the_trail_uses_one_apostrophe():
    """Issue 11: “Demo”’s, never “Demo”'s — every trail string uses the typographic apostrophe."""
    decision = r.resolve(request(application=app(), organization=org()))
    texts = [step.message for step in decision.trail]
    assert "MFA with organization “Demo”’s methods: authenticator application or security key, valid for 24h" in texts
    env_default = r.resolve(request(
        environment=r.EnvironmentSettings(c.ENV_YES, frozenset({c.TOTP})),
        organization=org(allowed_authenticators=(), mfa_required_for_all_apps=False)))
    assert any("the environment’s default methods" in step.message for step in env_default.trail)


@settings(max_examples=300)
@given(requests())
def test_no_trail_step_prints_a_straight_apostrophe(access_request):
    decision = r.resolve(access_request)
    assert not [step.message for step in decision.trail if "'" in step.message]


# ------------------------------------------------------------------------------- invariants
GRACE_UNTIL = st.one_of(st.none(), st.integers(min_value=-5, max_value=5).map(lambda d: NOW + d * DAY))
GRACE_SIGN_INS = st.one_of(st.none(), st.integers(min_value=1, max_value=100))
USED = st.integers(min_value=0, max_value=120)


@settings(max_examples=500)
@given(requests(), GRACE_UNTIL, GRACE_SIGN_INS, USED, st.booleans())
def test_a_grace_period_only_ever_lets_a_user_who_must_enroll_skip_before_it_runs_out(
        access_request, until, sign_ins, used, privileged):
    organization = replace(access_request.organization, enrollment_grace_until=until,
                           enrollment_grace_sign_ins=sign_ins)
    facts = replace(access_request.user, grace_sign_ins_used=used, is_privileged=privileged)
    access_request = replace(access_request, user=facts)
    with_grace = replace(access_request, organization=organization, user=facts)
    without = replace(with_grace, organization=replace(organization, enrollment_grace_until=None,
                                                       enrollment_grace_sign_ins=None))
    decision, plain = r.resolve(with_grace), r.resolve(without)
    # A grace period changes nothing about the decision itself: never a deny into an allow.
    assert (decision.outcome, decision.satisfied_by, decision.mfa_required) == (
        plain.outcome, plain.satisfied_by, plain.mfa_required)
    assert plain.grace is None
    if decision.grace is None:
        return
    assert decision.outcome == c.ALLOW and decision.satisfied_by == r.ENROLL and decision.mfa_required
    # only for the organization's members, never for staff accounts
    assert access_request.user.is_member and not access_request.user.is_privileged
    # never for a user who has an allowed kind enrolled
    assert not set(decision.allowed_authenticators) & access_request.user.enrolled_kinds
    # never once it ran out, by either limit
    assert until is None or NOW < until
    assert sign_ins is None or used < sign_ins
    assert decision.grace.sign_ins_left == (None if sign_ins is None else sign_ins - used)


def test_staff_accounts_get_no_grace_period():
    """SECURITY row 16: no path skips MFA, the Admin console included — so neither do its people."""
    grace = _with_grace(sign_ins=3)
    decision = r.resolve(replace(grace, user=replace(grace.user, is_privileged=True)))
    assert decision.satisfied_by == r.ENROLL and decision.grace is None
    why = "organization “Demo”’s grace period does not apply to staff accounts; enrollment is required"
    assert [step.message for step in decision.trail].count(why) == 1
