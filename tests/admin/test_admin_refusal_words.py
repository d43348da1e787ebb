"""Refusals in words, next to their field, in the seeds' wording, naming no internal field: a
setting the words must mention is called by its label (issue 8)."""

from __future__ import annotations

import json
import re

import pytest

from mfa_policies import constants as c
from mfa_policies.models import AaguidList, Application, Policy
from tests.support.admin import field_errors, org_form


def _refusals(row: str) -> list[str]:
    return re.findall(r"<li>(.*?)</li>", row.split("</ul>")[0])


def _policy_form(policy, **changes):
    return {"organization": str(policy.organization_id), "name": policy.name, "decision": policy.decision,
            "include": json.dumps(policy.include), "require": json.dumps(policy.require),
            "exclude": json.dumps(policy.exclude), "mfa_mode": policy.mfa_mode,
            "mfa_allowed_authenticators": policy.mfa_allowed_authenticators,
            "mfa_session_duration": policy.mfa_session_duration, **changes}


def test_enforcing_without_methods_is_refused_next_to_the_switch(demo_admin_client, make_org):
    org = make_org(allowed_authenticators=[])
    response = demo_admin_client.post(f"/admin/mfa_policies/organization/{org.pk}/change/",
                                      org_form(org, mfa_required_for_all_apps="on"))
    assert _refusals(field_errors(response, "mfa_required_for_all_apps")) == [
        "Choose at least one of the “Methods” before enforcing multi-factor authentication for this organization."]


def test_identity_provider_mfa_with_an_aaguid_list_names_both_by_their_labels(demo_admin_client, demo):
    aaguids = AaguidList.objects.create(organization=demo, name="Keys")
    response = demo_admin_client.post(f"/admin/mfa_policies/organization/{demo.pk}/change/",
                                      org_form(demo, amr_matching_enabled="on", required_aaguids=str(aaguids.pk)))
    refusal, = _refusals(field_errors(response, "amr_matching_enabled"))
    assert refusal == "“Use identity provider MFA” and an “AAGUID list” cannot both be turned on: AAGUID " \
        "information is not present in the identity provider&#x27;s AMR claim, so it cannot prove that an approved " \
        "authenticator was used. Turn off “Use identity provider MFA” or clear the “AAGUID list”."


def test_a_refused_rule_is_named_by_its_number_next_to_its_list(demo_admin_client, demo):
    policy = Policy.objects.get(name="Everyone")
    rules = [{"selector": "everyone", "value": ""}, {"selector": "role", "value": "ghost"}]
    response = demo_admin_client.post(f"/admin/mfa_policies/policy/{policy.pk}/change/",
                                      _policy_form(policy, include=json.dumps(rules)))
    assert _refusals(field_errors(response, "include")) == ["Rule 2: there is no role with key “ghost”."]


@pytest.mark.parametrize("field, changes, words", [
    ("mfa_mode", {"mfa_mode": c.MODE_CUSTOM, "mfa_allowed_authenticators": [c.TOTP], "mfa_session_duration": "1h"},
     "Custom MFA settings need independent MFA turned on for “Bare” first"),
    ("mfa_session_duration", {"mfa_mode": c.MODE_CUSTOM, "mfa_allowed_authenticators": [c.TOTP],
                              "mfa_session_duration": "2 days"}, "“2 days” is not a duration"),
    ("path_prefixes", {"path_prefixes": '["b/"]'}, "“b/” must be a path starting with /"),
])
def test_application_refusals_are_next_to_their_field(demo_admin_client, make_org, make_app, field, changes, words):
    org = make_org("Bare", allowed_authenticators=[] if field == "mfa_mode" else [c.TOTP])
    app = make_app(org, "App")
    data = {"organization": str(org.pk), "name": app.name, "path_prefixes": "[]", "session_duration": "24h",
            "mfa_mode": c.MODE_INHERIT, "mfa_session_duration": "", "app_policies-TOTAL_FORMS": "0",
            "app_policies-INITIAL_FORMS": "0", "app_policies-MIN_NUM_FORMS": "0", "app_policies-MAX_NUM_FORMS": "1000",
            **changes}
    response = demo_admin_client.post(f"/admin/mfa_policies/application/{app.pk}/change/", data)
    refusals = _refusals(field_errors(response, field))
    assert len(refusals) == 1 and refusals[0].startswith(words), refusals
    assert Application.objects.get(pk=app.pk).mfa_mode == c.MODE_INHERIT


def test_no_refusal_on_the_page_starts_with_a_field_name(demo_admin_client, demo):
    response = demo_admin_client.post(f"/admin/mfa_policies/organization/{demo.pk}/change/",
                                      org_form(demo, session_duration="2 days", amr_session_duration="1d", name=" "))
    refusals = re.findall(r'<ul class="errorlist"[^>]*><li>(.*?)</li>', response.content.decode())
    assert len(refusals) >= 3
    assert not [r for r in refusals if re.match(r"[a-z_]+(\[\d+\])?:", r)]
