"""Validation gives messages naming the field, and refuses impossible combinations."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from mfa_policies import constants as c
from mfa_policies.models import AaguidItem, AaguidList, Application, Environment, Policy
from mfa_policies.validation import normalize_aaguid
from enrollment.selectors import enrolled_kinds


def errors_of(obj) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as excinfo:
        obj.full_clean()
    return excinfo.value.message_dict


@pytest.mark.parametrize("field", ["session_duration", "amr_session_duration"])
@pytest.mark.parametrize("bad", ["1d", "721h", "30s", "", "1h60m", "abc"])
def test_organization_durations_are_refused_next_to_their_field_in_words(make_org, field, bad):
    org = make_org()
    setattr(org, field, bad)
    errors = errors_of(org)
    assert list(errors) == [field]
    assert f"“{bad}”" in errors[field][0] and ("30m, 1h, 24h" in errors[field][0] or "60" in errors[field][0]
                                               or "720h" in errors[field][0])
    assert not errors[field][0].startswith(field)  # the admin shows it next to the field; the API names it


def test_unknown_method_is_refused_by_name(make_org):
    org = make_org()
    org.allowed_authenticators = ["totp", "sms"]
    assert "'sms'" in errors_of(org)["allowed_authenticators"][0]


def test_methods_are_stored_in_canonical_order(make_org):
    org = make_org(allowed_authenticators=["biometrics", "totp"])
    assert org.allowed_authenticators == ["totp", "biometrics"]


def test_enforcing_for_all_apps_needs_a_method(make_org):
    org = make_org(allowed_authenticators=[])
    org.mfa_required_for_all_apps = True
    assert "Choose at least one of the “Methods”" in errors_of(org)["mfa_required_for_all_apps"][0]


def test_amr_matching_and_an_aaguid_list_cannot_both_be_on(make_org):
    org = make_org()
    aaguids = AaguidList.objects.create(organization=org, name="Keys")
    org.required_aaguids = aaguids
    org.amr_matching_enabled = True
    assert "“Use identity provider MFA” and an “AAGUID list” cannot both be turned on" in \
        errors_of(org)["amr_matching_enabled"][0]


def test_an_aaguid_list_of_another_organization_is_refused(make_org):
    org, other = make_org(), make_org()
    org.required_aaguids = AaguidList.objects.create(organization=other, name="Theirs")
    assert "another organization" in errors_of(org)["required_aaguids"][0]


def test_custom_needs_independent_mfa_on(make_org):
    org = make_org(allowed_authenticators=[])
    app = Application(organization=org, name="A", mfa_mode=c.MODE_CUSTOM,
                      mfa_allowed_authenticators=["totp"], mfa_session_duration="1h")
    assert "independent MFA turned on" in errors_of(app)["mfa_mode"][0]


def test_custom_needs_methods_and_a_valid_duration(make_org):
    org = make_org()
    app = Application(organization=org, name="A", mfa_mode=c.MODE_CUSTOM, mfa_allowed_authenticators=[],
                      mfa_session_duration="2 hours")
    errors = errors_of(app)
    assert "at least one of the “MFA methods”" in errors["mfa_allowed_authenticators"][0]
    assert errors["mfa_session_duration"][0].startswith("“2 hours” is not a duration")


def test_turning_independent_mfa_off_is_refused_while_custom_settings_exist_and_names_them(
        make_org, make_app, make_policy):
    org = make_org()
    make_app(org, "Payroll", mfa_mode=c.MODE_CUSTOM, mfa_allowed_authenticators=["totp"], mfa_session_duration="1h")
    make_policy(org, "Admins", mfa_mode=c.MODE_CUSTOM, mfa_allowed_authenticators=["security_key"],
                mfa_session_duration="1h")
    org.allowed_authenticators = []
    message = errors_of(org)["allowed_authenticators"][0]
    assert "application “Payroll”" in message and "policy “Admins”" in message


def test_switching_enforcement_off_is_refused_while_the_environment_says_yes(make_org):
    org = make_org(mfa_required_for_all_apps=True)
    env = Environment.load()
    env.mfa_requirement, env.allowed_authenticators = c.ENV_YES, ["totp"]
    env.save()
    org.mfa_required_for_all_apps = False
    assert "environment requires MFA" in errors_of(org)["mfa_required_for_all_apps"][0]


def test_environment_yes_needs_default_methods(db):
    env = Environment.load()
    env.mfa_requirement = c.ENV_YES
    env.allowed_authenticators = []
    assert "allowed_authenticators" in errors_of(env)


def test_environment_is_a_singleton(db):
    Environment.load()
    other = Environment(mfa_requirement=c.ENV_OPTIONAL)
    other.save()
    assert Environment.objects.count() == 1 and Environment.load().mfa_requirement == c.ENV_OPTIONAL


@pytest.mark.parametrize("raw, normalized", [
    ("8c39ee867f9a4a959ba3f6b097e5c2ee", "8c39ee867f9a4a959ba3f6b097e5c2ee"),
    ("8C39EE86-7F9A-4A95-9BA3-F6B097E5C2EE", "8c39ee867f9a4a959ba3f6b097e5c2ee"),
    (" 01020304-0506-0708-0102-030405060708 ", "01020304050607080102030405060708"),
])
def test_aaguids_are_normalized(raw, normalized):
    assert normalize_aaguid(raw) == normalized


@pytest.mark.parametrize("bad", ["", "8c39ee86", "zz39ee867f9a4a959ba3f6b097e5c2ee", "8c39ee867f9a4a959ba3f6b097e5c2ee00"])
def test_bad_aaguids_are_refused_naming_the_field(make_org, bad):
    aaguids = AaguidList.objects.create(organization=make_org(), name="Keys")
    errors = errors_of(AaguidItem(aaguid_list=aaguids, value=bad))
    assert "not an AAGUID" in errors["value"][0]


def test_aaguid_item_is_stored_normalized(make_org):
    aaguids = AaguidList.objects.create(organization=make_org(), name="Keys")
    item = AaguidItem(aaguid_list=aaguids, value="8C39EE86-7F9A-4A95-9BA3-F6B097E5C2EE")
    item.full_clean()
    item.save()
    assert item.value == "8c39ee867f9a4a959ba3f6b097e5c2ee"


@pytest.mark.parametrize("rules, field, fragment", [
    ([], "include", "at least one include rule"),
    ([{"selector": "colour", "value": "blue"}], "include", "unknown selector"),
    ([{"selector": "email", "value": "not-an-email"}], "include", "not an email address"),
    ([{"selector": "role", "value": "ghost"}], "include", "no role with key"),
    ([{"selector": "connection", "value": "ghost"}], "include", "no connection with key"),
    ([{"selector": "auth_method", "value": "HWK"}], "include", "lowercase"),
    ([{"selector": "everyone", "value": "x"}], "include", "takes no value"),
    ([{"selector": "email"}], "include", "needs a value"),
    ("everyone", "include", "must be a list"),
    ([["email", "a@b.test"]], "include", "must be an object"),
])
def test_policy_rules_are_checked(make_org, rules, field, fragment):
    policy = Policy(organization=make_org(), name="P", include=rules)
    assert fragment in " ".join(errors_of(policy)[field])


def test_custom_mfa_is_for_allow_policies_only(make_org):
    policy = Policy(organization=make_org(), name="P", decision=c.DENY,
                    include=[{"selector": "everyone", "value": ""}], mfa_mode=c.MODE_CUSTOM,
                    mfa_allowed_authenticators=["totp"], mfa_session_duration="1h")
    assert "Allow policies only" in errors_of(policy)["mfa_mode"][0]


def test_policy_emails_are_lowercased(make_org):
    policy = Policy(organization=make_org(), name="P", include=[{"selector": "email", "value": "P1@Demo.Test"}])
    policy.full_clean()
    assert policy.include == [{"selector": "email", "value": "p1@demo.test"}]


def test_path_prefixes_must_be_paths_and_not_taken(make_org, make_app):
    org = make_org()
    make_app(org, "A", path_prefixes=["/a/"])
    errors = errors_of(Application(organization=org, name="B", path_prefixes=["/a/", "b/"]))
    joined = " ".join(errors["path_prefixes"])
    assert "already covered by application “A”" in joined and "“b/” must be a path" in joined


def test_only_enterprise_connections_can_be_exempt(make_org, make_connection, make_user):
    from mfa_policies.services import configuration_save

    org = make_org()
    password = make_connection("password", kind=c.CONNECTION_PASSWORD)
    okta = make_connection("okta", kind=c.CONNECTION_OIDC, provider_id="okta")
    with pytest.raises(ValidationError) as excinfo:
        configuration_save(acting_user=make_user(), instance=org, m2m={"exempt_connections": [okta, password]})
    assert "password is not" in excinfo.value.message_dict["exempt_connections"][0]
    assert not org.exempt_connections.exists()


def test_a_local_connection_planted_as_exempt_still_requires_mfa(make_org, make_app, make_policy, make_user,
                                                                 make_member, make_connection, clock):
    """Defence in depth: even if the data says so, a password sign-in is never exempt."""
    from mfa_policies import resolution as r
    from mfa_policies.selectors import access_request_for

    org = make_org(mfa_required_for_all_apps=True)
    app = make_app(org)
    make_policy(org, apps=[app])
    user = make_user()
    make_member(user, org)
    org.exempt_connections.add(make_connection("password", kind=c.CONNECTION_PASSWORD))  # bypassing the service
    request = access_request_for(user=user, enrolled_kinds=enrolled_kinds(user), application=app, sign_in=r.SignIn("password"), now=clock.now)
    assert request.organization.exempt_connections == frozenset()
    assert r.resolve(request).mfa_required


def test_provider_ids_are_unique_and_enterprise_only(make_connection, db):
    from mfa_policies.models import Connection

    make_connection("okta", kind=c.CONNECTION_OIDC, provider_id="okta")
    errors = errors_of(Connection(key="okta2", name="Okta 2", kind=c.CONNECTION_OIDC, provider_id="okta"))
    assert "already signs in through “okta”" in errors["provider_id"][0]
    errors = errors_of(Connection(key="pw", name="Pw", kind=c.CONNECTION_PASSWORD, provider_id="corp"))
    assert "Only enterprise" in errors["provider_id"][0]


@pytest.mark.parametrize("text, words", [
    ("[" * 5000 + "]" * 5000, "nested too deeply: at most 32 levels"),
    ('{"a":' * 33 + "1" + "}" * 33, "nested too deeply: at most 32 levels"),
    ("x" * (256 * 1024 + 1), "262145 characters long; at most 262144"),
])
def test_json_text_too_deep_or_too_large_is_refused_before_parsing(text, words):
    from mfa_policies.validation import json_text_problem

    assert words in json_text_problem(text)


def test_brackets_inside_json_strings_do_not_count_as_nesting():
    from mfa_policies.validation import json_text_problem

    assert json_text_problem('["' + "[" * 100 + '", "\\"[[[[["]') is None


@pytest.mark.parametrize("value, words", [
    ([[[[["x"]]]]], "nested too deeply: at most 4 levels"),
    (list(range(201)), "201 entries; at most 200"),
    (["x" * 1025], "1025 characters long; at most 1024"),
    (["a\x00b"], "NUL character"),
    ({"a\x00": 1}, "NUL character"),
    (["\ud800"], "lone surrogate"),
    ([float("inf")], "finite"),
    ([float("nan")], "finite"),
])
def test_json_values_over_the_limits_are_refused_in_words(value, words):
    from mfa_policies.validation import json_value_problem

    assert words in json_value_problem(value)


def test_json_values_within_the_limits_pass():
    from mfa_policies.validation import json_value_problem

    assert json_value_problem([{"selector": "email", "value": "é" * 1024}] * 200) is None


def test_a_description_over_1024_characters_is_refused(make_org):
    aaguids = AaguidList(organization=make_org(), name="Keys", description="d" * 1025)
    assert "at most 1024" in errors_of(aaguids)["description"][0]


def test_a_refused_rule_says_its_number_for_people_and_its_place_for_clients(make_org):
    import copy
    import pickle

    policy = Policy(organization=make_org(), name="P", include=[{"selector": "everyone", "value": ""},
                                                                 {"selector": "role", "value": "ghost"}])
    with pytest.raises(ValidationError) as excinfo:
        policy.full_clean()
    refusal = excinfo.value.error_dict["include"][0].message
    assert refusal == "Rule 2: there is no role with key “ghost”."
    assert (refusal.path, refusal.words) == ("include[1]", "there is no role with key “ghost”.")
    for copied in (copy.deepcopy(refusal), pickle.loads(pickle.dumps(refusal))):
        assert (copied, copied.path, copied.words) == (refusal, refusal.path, refusal.words)


# ------------------------------------------------------------------------ enrollment grace period
def test_the_grace_period_refuses_a_new_date_in_the_past_and_a_count_outside_1_to_100(make_org, clock):
    import datetime as dt

    org = make_org()
    org.enrollment_grace_until = clock.now - dt.timedelta(minutes=1)
    org.enrollment_grace_sign_ins = 0
    with pytest.raises(ValidationError) as refused:
        org.full_clean()
    errors = refused.value.message_dict
    assert errors["enrollment_grace_until"] == [
        "Choose a date and time in the future: users who have not enrolled may skip enrollment until then. "
        "Leave it empty for no grace period by date."]
    assert errors["enrollment_grace_sign_ins"] == [
        "Enter a whole number of sign-ins from 1 to 100, or leave it empty for no grace period by number of sign-ins."]
    for count in (1, 100):
        org.enrollment_grace_until, org.enrollment_grace_sign_ins = clock.now + dt.timedelta(days=1), count
        org.full_clean()
    org.enrollment_grace_sign_ins = 101
    with pytest.raises(ValidationError):
        org.full_clean()


def test_a_stored_grace_date_that_has_passed_may_stay(make_org, clock):
    import datetime as dt

    org = make_org(enrollment_grace_until=clock.now + dt.timedelta(hours=1))
    clock.advance(seconds=7200)
    org.session_duration = "12h"
    org.full_clean()  # unchanged and past: the grace period simply ended
    org.enrollment_grace_until = clock.now - dt.timedelta(minutes=5)  # changed, and past
    with pytest.raises(ValidationError):
        org.full_clean()
