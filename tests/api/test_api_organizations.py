"""GET / PUT access/organizations with the seed-002 bodies as written (spec §6)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import AuditEvent
from mfa_policies import constants as c
from mfa_policies.models import Application, Organization
from tests.support.api import (AMR_MATCHING, ASSIGN_LIST, CREATE_LIST, SEED_DOMAIN, TURN_OFF, TURN_ON, db_state,
                               messages)


def test_get_returns_the_seed_shape(api, api_org):
    status, payload = api.get("access/organizations")
    assert status == 200 and payload["success"] and payload["errors"] == []
    assert payload["result"]["name"] == "Your Team Name"
    assert payload["result"]["auth_domain"] == SEED_DOMAIN
    assert payload["result"]["mfa_config"] == {
        "allowed_authenticators": [], "session_duration": "24h", "amr_matching_enabled": False,
        "amr_session_duration": "24h", "required_aaguids": None,
    }
    assert payload["result"]["mfa_required_for_all_apps"] is False
    assert payload["result"]["mfa_exempt_roles"] == [] and payload["result"]["mfa_exempt_connections"] == []


def test_turn_on_independent_mfa_with_the_seed_body(api, api_org, api_admin):
    status, payload = api.put("access/organizations", raw=TURN_ON)
    assert status == 200, payload
    api_org.refresh_from_db()
    assert api_org.allowed_authenticators == [c.TOTP, c.SECURITY_KEY, c.BIOMETRICS]
    assert api_org.session_duration == "24h" and api_org.mfa_required_for_all_apps is False
    event = AuditEvent.objects.get(action="organization.update")
    assert event.actor == api_admin and event.after["allowed_authenticators"] == [c.TOTP, c.SECURITY_KEY, c.BIOMETRICS]
    # Stored in the canonical order; answered in the order sent (issue 10: no permanent Terraform diff).
    assert payload["result"]["mfa_config"]["allowed_authenticators"] == ["totp", "biometrics", "security_key"]


def test_assign_an_aaguid_list_with_the_id_from_post(api, api_org):
    api.put("access/organizations", raw=TURN_ON)
    status, created = api.post("gateway/lists", raw=CREATE_LIST)
    assert status == 200, created
    list_id = created["result"]["id"]
    status, payload = api.put("access/organizations", raw=ASSIGN_LIST.replace("05ddacda-5131-41ab-9eeb-6763f8dce3be", list_id))
    assert status == 200, payload
    api_org.refresh_from_db()
    assert str(api_org.required_aaguids_id) == list_id
    assert payload["result"]["mfa_config"]["required_aaguids"] == list_id
    # "To remove the restriction, set required_aaguids to null."
    body = json.loads(ASSIGN_LIST)
    body["mfa_config"]["required_aaguids"] = None
    status, payload = api.put("access/organizations", body)
    assert status == 200 and Organization.objects.get(pk=api_org.pk).required_aaguids_id is None


def test_the_seeds_placeholder_list_id_is_not_in_this_account(api):
    before = db_state()
    status, payload = api.put("access/organizations", raw=ASSIGN_LIST)
    assert status == 400
    assert "mfa_config.required_aaguids" in messages(payload) and "05ddacda-5131-41ab-9eeb-6763f8dce3be" in messages(payload)
    assert db_state() == before


def test_use_identity_provider_mfa_with_the_seed_body(api, api_org):
    status, payload = api.put("access/organizations", raw=AMR_MATCHING)
    assert status == 200, payload
    api_org.refresh_from_db()
    assert api_org.amr_matching_enabled is True and api_org.amr_session_duration == "1h"


def test_amr_matching_with_an_aaguid_list_is_refused_naming_the_field(api, api_org):
    api.put("access/organizations", raw=TURN_ON)
    list_id = api.post("gateway/lists", raw=CREATE_LIST)[1]["result"]["id"]
    api.put("access/organizations", raw=ASSIGN_LIST.replace("05ddacda-5131-41ab-9eeb-6763f8dce3be", list_id))
    before = db_state()
    body = json.loads(AMR_MATCHING)
    body["mfa_config"]["required_aaguids"] = list_id
    status, payload = api.put("access/organizations", body)
    assert status == 400
    assert payload["errors"][0]["message"].startswith("mfa_config.amr_matching_enabled:")
    assert db_state() == before


def test_turn_off_is_refused_while_custom_apps_or_policies_exist_naming_them(api, api_org, make_app, make_policy):
    api.put("access/organizations", raw=TURN_ON)
    api_org.refresh_from_db()
    make_app(api_org, "Payroll", mfa_mode=c.MODE_CUSTOM, mfa_allowed_authenticators=[c.TOTP], mfa_session_duration="1h")
    make_policy(api_org, "Admins", mfa_mode=c.MODE_CUSTOM, mfa_allowed_authenticators=[c.TOTP],
                mfa_session_duration="1h")
    before = db_state()
    status, payload = api.put("access/organizations", raw=TURN_OFF)
    assert status == 400
    text = messages(payload)
    assert text.startswith("mfa_config.allowed_authenticators:")
    assert "application “Payroll”" in text and "policy “Admins”" in text
    assert db_state() == before


def test_turn_off_with_the_seed_body(api, api_org):
    api.put("access/organizations", raw=TURN_ON)
    status, payload = api.put("access/organizations", raw=TURN_OFF)
    assert status == 200, payload
    api_org.refresh_from_db()
    assert api_org.allowed_authenticators == [] and not api_org.independent_mfa_enabled


def test_put_replaces_the_whole_object_omitted_fields_return_to_defaults(api, api_org, make_role, make_connection):
    make_role("contractor")
    make_connection("okta", kind=c.CONNECTION_OIDC)
    full = {
        "name": "Your Team Name", "auth_domain": SEED_DOMAIN,
        "mfa_config": {"allowed_authenticators": ["totp"], "session_duration": "1h30m",
                       "amr_matching_enabled": True, "amr_session_duration": "0m", "required_aaguids": None},
        "mfa_required_for_all_apps": True, "mfa_exempt_roles": ["contractor"], "mfa_exempt_connections": ["okta"],
    }
    status, payload = api.put("access/organizations", full)
    assert status == 200, payload
    # GET → PUT round-trips unchanged, read-only fields included.
    got = api.get("access/organizations")[1]["result"]
    audits = AuditEvent.objects.count()
    assert api.put("access/organizations", got)[0] == 200
    assert AuditEvent.objects.count() == audits
    status, payload = api.put("access/organizations", {"name": "Your Team Name", "mfa_config": {"allowed_authenticators": ["totp"]}})
    assert status == 200, payload
    api_org.refresh_from_db()
    assert api_org.auth_domain == "" and api_org.session_duration == "24h" and api_org.amr_matching_enabled is False
    assert api_org.amr_session_duration == "24h" and api_org.mfa_required_for_all_apps is False
    # mfagate's own extension fields keep their value when a PUT omits them (issue 10) …
    assert [r.key for r in api_org.exempt_roles.all()] == ["contractor"]
    assert [x.key for x in api_org.exempt_connections.all()] == ["okta"]
    # … and an empty list clears them.
    status, payload = api.put("access/organizations", {"name": "Your Team Name", "mfa_exempt_roles": [],
                                                       "mfa_exempt_connections": []})
    assert status == 200, payload
    assert not api_org.exempt_roles.exists() and not api_org.exempt_connections.exists()


def test_exempt_roles_and_connections_by_key(api, api_org, make_role, make_connection):
    make_role("contractor")
    make_connection("okta", kind=c.CONNECTION_OIDC)
    make_connection("password")
    body = {"name": "Your Team Name", "mfa_exempt_roles": ["contractor"], "mfa_exempt_connections": ["okta"]}
    status, payload = api.put("access/organizations", body)
    assert status == 200 and payload["result"]["mfa_exempt_roles"] == ["contractor"]
    before = db_state()
    status, payload = api.put("access/organizations", {**body, "mfa_exempt_connections": ["password"]})
    assert status == 400 and messages(payload).startswith("mfa_exempt_connections: only enterprise")
    status, payload = api.put("access/organizations", {**body, "mfa_exempt_roles": ["ghost"]})
    assert status == 400 and "mfa_exempt_roles" in messages(payload) and "ghost" in messages(payload)
    assert db_state() == before


def test_an_api_change_revokes_app_sessions(api, api_org, make_app):
    app = make_app(api_org)
    api.put("access/organizations", raw=TURN_ON)
    assert Application.objects.get(pk=app.pk).config_version > app.config_version


@pytest.mark.parametrize("body, field", [
    ({"name": 5}, "name"),
    ({"name": "x", "auth_domain": ["a"]}, "auth_domain"),
    ({"name": "x", "mfa_required_for_all_apps": "yes"}, "mfa_required_for_all_apps"),
    ({"name": "x", "mfa_config": []}, "mfa_config"),
    ({"name": "x", "mfa_config": {"allowed_authenticators": "totp"}}, "mfa_config.allowed_authenticators"),
    ({"name": "x", "mfa_config": {"allowed_authenticators": ["sms"]}}, "mfa_config.allowed_authenticators"),
    ({"name": "x", "mfa_config": {"allowed_authenticators": [{"a": 1}]}}, "mfa_config.allowed_authenticators"),
    ({"name": "x", "mfa_config": {"allowed_authenticators": ["totp"], "session_duration": "1d"}}, "mfa_config.session_duration"),
    ({"name": "x", "mfa_config": {"allowed_authenticators": ["totp"], "session_duration": "721h"}}, "mfa_config.session_duration"),
    ({"name": "x", "mfa_config": {"allowed_authenticators": ["totp"], "session_duration": 30}}, "mfa_config.session_duration"),
    ({"name": "x", "mfa_config": {"amr_session_duration": "-1h"}}, "mfa_config.amr_session_duration"),
    ({"name": "x", "mfa_config": {"amr_matching_enabled": 1}}, "mfa_config.amr_matching_enabled"),
    ({"name": "x", "mfa_config": {"required_aaguids": "not-a-uuid"}}, "mfa_config.required_aaguids"),
    ({"name": "x", "mfa_config": {"required_aaguids": 7}}, "mfa_config.required_aaguids"),
    ({"name": "x", "mfa_config": {"colour": "red"}}, "mfa_config.colour"),
    ({"name": "x", "mfa_required_for_all_apps": True}, "mfa_required_for_all_apps"),
    ({"name": "x", "surprise": 1}, "surprise"),
    ({"name": ""}, "name"),
    ({"name": "x" * 151}, "name"),
    ({"name": "x", "mfa_exempt_roles": "admin"}, "mfa_exempt_roles"),
    ({}, "name"),
])
def test_bad_bodies_are_400_naming_the_field_and_write_nothing(api, body, field):
    before = db_state()
    status, payload = api.put("access/organizations", body)
    assert status == 400, payload
    assert payload["result"] is None and payload["errors"]
    assert any(e["message"].startswith(field) for e in payload["errors"]), payload
    assert db_state() == before


@pytest.mark.parametrize("raw", [
    "", "not json", "{", "[]", "null", "\"a string\"", "{\"name\": NaN}", "{\"name\": Infinity}",
    "[" * 5000 + "]" * 5000, "{\"name\": \"a\\u0000b\"}", "{\"name\": \"\\ud800\"}", b"\xff\xfe{}",
])
def test_malformed_json_is_400(api, raw):
    before = db_state()
    status, payload = api.put("access/organizations", raw=raw)
    assert status == 400 and payload["errors"][0]["code"] == 1001
    assert db_state() == before


def test_a_huge_body_is_400(api):
    before = db_state()
    status, payload = api.put("access/organizations", {"name": "x" * 300_000})
    assert status == 400 and payload["errors"][0]["code"] == 1004
    assert db_state() == before


def test_one_error_per_problem(api):
    status, payload = api.put("access/organizations", {
        "name": "", "mfa_config": {"allowed_authenticators": ["totp"], "session_duration": "1d",
                                   "amr_session_duration": "2d"}})
    assert status == 400
    starts = {e["message"].split(":")[0] for e in payload["errors"]}
    assert {"name", "mfa_config.session_duration", "mfa_config.amr_session_duration"} <= starts


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
org_like = st.fixed_dictionaries({}, optional={
    "name": json_values | st.text(max_size=30),
    "auth_domain": json_values,
    "mfa_required_for_all_apps": json_values,
    "mfa_exempt_roles": json_values,
    "mfa_exempt_connections": json_values,
    "mfa_config": st.fixed_dictionaries({}, optional={
        "allowed_authenticators": st.lists(st.sampled_from(["totp", "security_key", "biometrics", "sms"]), max_size=4)
        | json_values,
        "session_duration": st.sampled_from(["0m", "1h", "24h", "720h", "721h", "1h60m", ""]) | json_values,
        "amr_matching_enabled": json_values,
        "amr_session_duration": json_values,
        "required_aaguids": st.uuids().map(str) | json_values,
    }) | json_values,
}) | json_values


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=org_like)
def test_random_json_never_gets_a_500(api, body):
    status, payload = api.put("access/organizations", raw=json.dumps(body))
    assert status in (200, 400), payload
