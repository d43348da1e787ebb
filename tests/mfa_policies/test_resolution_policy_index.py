"""The resolver finds the policy a user matches through keys worked out once per policy (and, for a
:class:`~mfa_policies.resolution.Policies`, an index of them); it must decide and explain exactly as
trying every policy with :func:`~mfa_policies.resolution.policy_matches` in turn would."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from mfa_policies import constants as c
from mfa_policies import resolution as r
from tests.support import builders as b

ROLES = ("admin", "billing", "Admin")
CONNECTIONS = ("password", "okta", "Okta")
EMAILS = ("u@demo.test", "U@Demo.Test", "x@demo.test", "no-at-sign")
DOMAINS = ("demo.test", "@demo.test", "DEMO.TEST", "@@demo.test", "other.test", "no-at-sign")
AMR_VALUES = ("mfa", "hwk", "HWK", "otp", "pwd")

rule_values = {
    c.SELECTOR_EVERYONE: st.sampled_from(["", "ignored"]),
    c.SELECTOR_EMAIL: st.sampled_from(EMAILS),
    c.SELECTOR_EMAIL_DOMAIN: st.sampled_from(DOMAINS),
    c.SELECTOR_ROLE: st.sampled_from(ROLES),
    c.SELECTOR_CONNECTION: st.sampled_from(CONNECTIONS),
    c.SELECTOR_AUTH_METHOD: st.sampled_from(AMR_VALUES),
    "group": st.just("admins"),  # unknown selector: never matches
}
rules = st.sampled_from(sorted(rule_values)).flatmap(
    lambda selector: rule_values[selector].map(lambda value: r.Rule(selector, value)))
# Values a rule should never hold (validation refuses them), which must still behave as before.
odd_rules = st.builds(r.Rule, st.sampled_from([c.SELECTOR_ROLE, c.SELECTOR_EMAIL, c.SELECTOR_CONNECTION]),
                      st.sampled_from([7, None]))

policies = st.builds(
    lambda i, decision, include, require, exclude: b.policy(
        name=f"P{i}", decision=decision, include=include, require=require, exclude=exclude),
    st.integers(0, 9), st.sampled_from([c.ALLOW, c.ALLOW, c.DENY, c.BYPASS]),
    st.lists(rules, min_size=1, max_size=3), st.lists(rules, max_size=2), st.lists(rules, max_size=1),
)
users = st.builds(lambda email, roles, member: b.user(email=email, roles=roles, member=member),
                  st.sampled_from(EMAILS), st.frozensets(st.sampled_from(ROLES)), st.booleans())
sign_ins = st.builds(lambda connection, amr: b.sign_in(connection=connection, amr=amr),
                     st.sampled_from(CONNECTIONS), st.lists(st.sampled_from(AMR_VALUES), max_size=3))


def tried_one_by_one(policies, user, sign_in) -> list[str]:
    """The policy steps as the resolver wrote them before it had keys: every policy in turn."""
    steps = []
    for policy in policies:
        ok, why = r.policy_matches(policy, user, sign_in)
        if ok:
            steps.append(f"[policy] policy “{policy.name}” ({policy.decision}) matches: {why}")
            break
        steps.append(f"[policy] policy “{policy.name}” does not match: {why}")
    return steps


@settings(max_examples=500)
@given(st.lists(rules, min_size=1, max_size=4), users, sign_ins)
def test_a_rule_key_is_among_the_users_keys_exactly_when_the_rule_matches(include, user, sign_in):
    policy = b.policy(include=include)
    keyed = not policy.include_keys.isdisjoint(r.match_keys(user, sign_in))
    assert keyed == any(r.rule_matches(rule, user, sign_in) for rule in include)


@settings(max_examples=500)
@given(st.lists(policies, min_size=1, max_size=12), users, sign_ins, st.booleans())
def test_the_indexed_resolver_tries_policies_exactly_as_one_by_one(policies, user, sign_in, indexed):
    request = b.request(policies=policies, user_=user, sign_in_=sign_in)
    if indexed:
        request = dataclasses.replace(request, policies=r.Policies(policies))
    decision = r.resolve(request)
    expected = tried_one_by_one(policies, user, sign_in)
    policy_steps = [str(step) for step in decision.trail if step.level == r.POLICY][:len(expected)]
    assert policy_steps == expected
    skipped = [str(step) for step in decision.trail if step.skipped]
    assert skipped == [s for s in expected if "does not match" in s]
    matched = next((p for p in policies if r.policy_matches(p, user, sign_in)[0]), None)
    assert decision.policy == (matched.name if matched else None)


@settings(max_examples=200)
@given(st.lists(st.one_of(policies, st.builds(lambda inc: b.policy(name="odd", include=inc),
                                              st.lists(odd_rules, min_size=1, max_size=2))),
                min_size=1, max_size=6), sign_ins)
def test_rules_without_text_values_are_tried_one_by_one_as_before(policies, sign_in):
    """A rule whose value is not text cannot be keyed: the resolver then asks ``policy_matches``,
    and behaves (matches, or raises) exactly as it did before it had keys."""
    user = b.user(email="u@demo.test", roles=("admin",))
    request = dataclasses.replace(b.request(policies=policies, user_=user, sign_in_=sign_in),
                                  policies=r.Policies(policies))
    try:
        expected = tried_one_by_one(policies, user, sign_in)
    except (AttributeError, TypeError) as exc:
        try:
            r.resolve(request)
        except type(exc):
            return
        raise AssertionError(f"one by one raised {exc!r}; the resolver did not")
    decision = r.resolve(request)
    assert [str(step) for step in decision.trail if step.level == r.POLICY][:len(expected)] == expected


def test_two_thousand_policies_before_the_users_explain_each_and_decide_by_the_last():
    others = [b.policy(name=f"other {i}", include=[r.Rule(c.SELECTOR_EMAIL, f"x{i}@demo.test")]) for i in range(2000)]
    mine = b.policy(name="Mine", include=[r.Rule(c.SELECTOR_EMAIL_DOMAIN, "demo.test")])
    request = dataclasses.replace(b.request(policies=[*others, mine]), policies=r.Policies([*others, mine]))
    decision = r.resolve(request)
    assert decision.policy == "Mine" and decision.outcome == c.ALLOW
    assert sum(step.skipped for step in decision.trail) == 2000
    assert str(decision.trail[1999]) == "[policy] policy “other 1999” does not match: no include rule matches"
    assert str(decision.trail[2000]) == "[policy] policy “Mine” (allow) matches: include email_domain=demo.test matches"
    assert r.resolve(request) == decision  # the index, built once, changes nothing the second time
