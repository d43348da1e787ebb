"""Cloudflare's shapes (issue 10): one-key rules, UUID ids, domain/type, the fields mfagate keeps as
sent, the SDK's AMR name, lists in the order sent, PUT and mfagate's extension fields."""

from __future__ import annotations

import copy

import pytest

from accounts.models import AuditEvent
from mfa_policies import constants as c
from mfa_policies.models import AaguidList, Application, Organization, Policy
from tests.support.api import CREATE_LIST, SEED_DOMAIN, TURN_ON, db_state, messages

# What the Terraform provider's zero_trust_organization resource sends: its computed_optional
# booleans always, the top-level session_duration and mfa_config with the SDK's AMR name.
TERRAFORM_ORGANIZATION = {
    "name": "Your Team Name",
    "auth_domain": SEED_DOMAIN,
    "allow_authenticate_via_warp": False,
    "auto_redirect_to_identity": False,
    "is_ui_read_only": False,
    "mfa_configuration_allowed": False,
    "ui_read_only_toggle_reason": "",
    "session_duration": "24h",
    "user_seat_expiration_inactive_time": "730h",
    "warp_auth_session_duration": "24h",
    "login_design": {"background_color": "#ffffff", "text_color": "#000000", "header_text": "Hello"},
    "custom_pages": {"forbidden": "699d98642c564d2e855e9661899b7252"},
    "mfa_required_for_all_apps": True,
    "mfa_config": {"allowed_authenticators": ["security_key", "totp"], "session_duration": "12h",
                   "amr_matching_session_duration": "1h"},
}


@pytest.fixture
def mfa_on(api_org):
    api_org.allowed_authenticators = [c.TOTP, c.SECURITY_KEY, c.BIOMETRICS]
    api_org.save()
    return api_org


def test_a_terraform_shaped_organization_round_trips_unchanged(api, api_org):
    status, payload = api.put("access/organizations", TERRAFORM_ORGANIZATION)
    assert status == 200, payload
    result = payload["result"]
    for name, value in TERRAFORM_ORGANIZATION.items():
        if name != "mfa_config":
            assert result[name] == value, name
    for name, value in TERRAFORM_ORGANIZATION["mfa_config"].items():
        assert result["mfa_config"][name] == value, name
    api_org.refresh_from_db()
    assert api_org.allowed_authenticators == [c.TOTP, c.SECURITY_KEY]  # canonical inside
    assert api_org.amr_matching_enabled is True and api_org.amr_session_duration == "1h"
    assert api_org.session_duration == "12h"  # mfa_config's; the top-level one is Cloudflare's, kept as sent
    # Read back unchanged, and the same body again changes nothing and audits nothing.
    assert api.get("access/organizations")[1]["result"] == result
    audits = AuditEvent.objects.count()
    again = api.put("access/organizations", TERRAFORM_ORGANIZATION)[1]["result"]
    assert {**again, "updated_at": None} == {**result, "updated_at": None}
    assert AuditEvent.objects.count() == audits
    # A changed Cloudflare field is stored and audited; an omitted one is gone (PUT replaces them).
    body = copy.deepcopy(TERRAFORM_ORGANIZATION)
    body["is_ui_read_only"] = True
    del body["login_design"]
    result = api.put("access/organizations", body)[1]["result"]
    assert result["is_ui_read_only"] is True and "login_design" not in result
    event = AuditEvent.objects.get(action="organization.cloudflare_fields", after__is_ui_read_only=True)
    assert event.before["is_ui_read_only"] is False and "login_design" not in event.after


def test_the_sdk_and_the_seed_name_the_amr_duration_differently(api, api_org):
    status, payload = api.put("access/organizations", {"name": "x", "mfa_config": {
        "allowed_authenticators": ["totp"], "amr_session_duration": "2h", "amr_matching_session_duration": "3h"}})
    assert status == 400 and messages(payload).startswith("mfa_config.amr_matching_session_duration")
    status, payload = api.put("access/organizations", {"name": "x", "mfa_config": {
        "allowed_authenticators": ["totp"], "amr_matching_enabled": False, "amr_matching_session_duration": "3h"}})
    assert status == 200 and payload["result"]["mfa_config"]["amr_matching_enabled"] is False
    assert payload["result"]["mfa_config"]["amr_session_duration"] == "3h"
    # The seed's name alone: the answer does not grow the SDK's name.
    status, payload = api.put("access/organizations", {"name": "x", "mfa_config": {"amr_session_duration": "2h"}})
    assert status == 200 and "amr_matching_session_duration" not in payload["result"]["mfa_config"]


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "allow_authenticate_via_warp": "no"}, "allow_authenticate_via_warp"),
    ({"name": "x", "login_design": "blue"}, "login_design"),
    ({"name": "x", "deny_unmatched_requests_exempted_zone_names": [1]}, "deny_unmatched_requests_exempted_zone_names"),
    ({"name": "x", "auto_redirect_to_identiy": True}, "auto_redirect_to_identiy"),
    ({"name": "x", "mfa_config": {"amr_matching_duration": "1h"}}, "mfa_config.amr_matching_duration"),
])
def test_cloudflare_fields_are_type_checked_and_typos_refused_naming_them(api, body, field):
    before = db_state()
    status, payload = api.put("access/organizations", body)
    assert status == 400 and any(e["message"].startswith(field) for e in payload["errors"]), payload
    assert db_state() == before


def test_a_typo_is_1003_with_a_suggestion(api):
    status, payload = api.put("access/organizations", {"name": "x", "auto_redirect_to_identiy": True})
    [error] = payload["errors"]
    assert error["code"] == 1003 and "auto_redirect_to_identity" in error["message"]


def test_exempt_roles_and_connections_come_back_in_the_order_sent(api, api_org, make_role, make_connection):
    for key in ("zeta", "alpha", "mid"):
        make_role(key)
    make_connection("okta", kind=c.CONNECTION_OIDC)
    make_connection("azure", kind=c.CONNECTION_OIDC)
    body = {"name": "x", "mfa_exempt_roles": ["zeta", "alpha", "mid"], "mfa_exempt_connections": ["okta", "azure"]}
    result = api.put("access/organizations", body)[1]["result"]
    assert result["mfa_exempt_roles"] == ["zeta", "alpha", "mid"] and result["mfa_exempt_connections"] == ["okta", "azure"]
    # Changed elsewhere (the admin): the answer falls back to key order.
    api_org.exempt_roles.remove(*api_org.exempt_roles.filter(key="mid"))
    assert api.get("access/organizations")[1]["result"]["mfa_exempt_roles"] == ["alpha", "zeta"]


# ------------------------------------------------------------------------------ policies and rules
CLOUDFLARE_RULES = [
    {"everyone": {}},
    {"email": {"email": "A@Example.com"}},
    {"email_domain": {"domain": "Example.com"}},
    {"auth_method": {"auth_method": "mfa"}},
    {"login_method": {"id": "okta"}},
    {"role": {"key": "billing"}},
]


def test_policy_rules_in_cloudflares_shapes_in_and_out(api, mfa_on, make_role, make_connection):
    make_role("billing")
    make_connection("okta", kind=c.CONNECTION_OIDC)
    status, payload = api.post("access/policies", {"name": "All", "decision": "allow", "include": CLOUDFLARE_RULES,
                                                   "require": [{"auth_method": {"auth_method": "hwk"}}],
                                                   "exclude": [{"email": {"email": "out@example.com"}}]})
    assert status == 200, payload
    result = payload["result"]
    policy = Policy.objects.get(public_id=result["id"])
    assert policy.include == [
        {"selector": "everyone", "value": ""}, {"selector": "email", "value": "a@example.com"},
        {"selector": "email_domain", "value": "example.com"}, {"selector": "auth_method", "value": "mfa"},
        {"selector": "connection", "value": "okta"}, {"selector": "role", "value": "billing"}]
    assert result["include"] == [
        {"everyone": {}}, {"email": {"email": "a@example.com"}}, {"email_domain": {"domain": "example.com"}},
        {"auth_method": {"auth_method": "mfa"}}, {"login_method": {"id": "okta"}}, {"role": {"key": "billing"}}]
    assert result["require"] == [{"auth_method": {"auth_method": "hwk"}}]
    assert result["reusable"] is True and result["app_count"] == 0


@pytest.mark.parametrize("rule, needle", [
    ({"group": {"id": "abc"}}, "“group” rules are not supported"),
    ({"email": "a@example.com"}, "include[0].email must be"),
    ({"email": {"address": "a@example.com"}}, "include[0].email must be"),
    ({"email": {"email": 5}}, "include[0].email.email must be a string"),
    ({"everyone": {"x": 1}}, "include[0].everyone must be {}"),
    ({"everyone": {}, "email": {"email": "a@b.co"}}, "include[0] must be an object with one key"),
    ({"email": {"email": "not-an-email"}}, "include[0]"),
    ({"login_method": {"id": "ghost"}}, "include[0]"),
    ({"role": {"key": "ghost"}}, "include[0]"),
])
def test_bad_cloudflare_rules_are_400_naming_them(api, mfa_on, rule, needle):
    before = db_state()
    status, payload = api.post("access/policies", {"name": "P", "include": [rule]})
    assert status == 400 and needle in messages(payload), payload
    assert db_state() == before


def test_policy_cloudflare_fields_round_trip(api, mfa_on):
    extra = {"approval_required": False, "isolation_required": False, "purpose_justification_required": False,
             "purpose_justification_prompt": "", "session_duration": "24h", "approval_groups": [],
             "connection_rules": {"rdp": {"allowed_clipboard_local_to_remote_formats": ["text"]}}}
    status, payload = api.post("access/policies", {"name": "P", "include": [{"everyone": {}}], **extra,
                                                   "mfa_config": {"allowed_authenticators": ["security_key", "totp"],
                                                                  "session_duration": "1h"}})
    assert status == 200, payload
    result = payload["result"]
    assert {k: result[k] for k in extra} == extra
    assert result["mfa_config"]["allowed_authenticators"] == ["security_key", "totp"]
    assert api.get(f"access/policies/{result['id']}")[1]["result"] == result


# ------------------------------------------------------------------------------ applications
def test_application_domain_type_and_path_prefixes(api, mfa_on, make_policy):
    first, second = make_policy(mfa_on, "First"), make_policy(mfa_on, "Second")
    status, payload = api.post("access/apps", {
        "name": "Payroll", "type": "self_hosted", "domain": "payroll.example.com/payroll/",
        "policies": [str(second.public_id), str(first.public_id)], "app_launcher_visible": True,
        "tags": ["hr"], "cors_headers": {"allow_all_origins": True}})
    assert status == 200, payload
    result = payload["result"]
    app = Application.objects.get(public_id=result["id"])
    assert app.path_prefixes == ["/payroll/"]
    assert result["domain"] == "payroll.example.com/payroll/" and result["type"] == "self_hosted"
    assert result["aud"] == f"urn:mfagate:app:{app.pk}"
    assert [(p["id"], p["precedence"]) for p in result["policies"]] == [(str(second.public_id), 1),
                                                                         (str(first.public_id), 2)]
    assert result["tags"] == ["hr"] and result["cors_headers"] == {"allow_all_origins": True}
    # mfagate's extra prefixes stay when a Cloudflare client moves the domain.
    body = api.get(f"access/apps/{app.public_id}")[1]["result"]
    body["path_prefixes"] = ["/payroll/", "/salaries/"]
    assert api.put(f"access/apps/{app.public_id}", body)[0] == 200
    status, payload = api.put(f"access/apps/{app.public_id}", {"name": "Payroll", "domain": "/pay/"})
    assert status == 200, payload
    assert payload["result"]["path_prefixes"] == ["/pay/", "/salaries/"] and payload["result"]["domain"] == "/pay/"
    assert len(payload["result"]["policies"]) == 2 and "tags" not in payload["result"]
    # A bare host covers everything; no prefix at all: no domain.
    status, payload = api.put(f"access/apps/{app.public_id}", {"name": "Payroll", "domain": "payroll.example.com"})
    assert payload["result"]["path_prefixes"][0] == "/"
    status, payload = api.post("access/apps", {"name": "Decorated"})
    assert status == 200 and payload["result"]["domain"] is None and payload["result"]["path_prefixes"] == []


def test_a_domain_whose_path_another_application_covers_is_refused_naming_domain(api, mfa_on, make_app):
    make_app(mfa_on, "Taken", path_prefixes=["/taken/"])
    status, payload = api.post("access/apps", {"name": "New", "domain": "app.example.com/taken/"})
    assert status == 400 and messages(payload).startswith("domain:") and "Taken" in messages(payload)


def test_an_application_put_with_plain_policy_ids_and_the_old_integer_ids_refused(api, mfa_on, make_app, make_policy):
    app = make_app(mfa_on, "A")
    policy = make_policy(mfa_on, "P")
    status, payload = api.put(f"access/apps/{app.public_id}", {"name": "A", "policies": [policy.pk]})
    assert status == 400 and messages(payload).startswith("policies[0]")
    status, payload = api.put(f"access/apps/{app.public_id}", {"name": "A", "policies": [str(policy.public_id)]})
    assert status == 200 and payload["result"]["policies"][0]["id"] == str(policy.public_id)


def test_app_scoped_policies_list_and_create(api, mfa_on, make_app, make_policy):
    app = make_app(mfa_on, "A")
    make_policy(mfa_on, "Existing", apps=[app])
    make_policy(mfa_on, "Elsewhere")
    status, payload = api.post(f"access/apps/{app.public_id}/policies",
                               {"name": "Scoped", "decision": "allow", "include": [{"everyone": {}}]})
    assert status == 200, payload
    status, payload = api.get(f"access/apps/{app.public_id}/policies")
    assert [p["name"] for p in payload["result"]] == ["Existing", "Scoped"]
    assert payload["result_info"]["total_count"] == 2
    assert [p["precedence"] for p in api.get(f"access/apps/{app.public_id}")[1]["result"]["policies"]] == [1, 2]


# ------------------------------------------------------------------------------ lists
def test_list_items_in_the_order_sent_and_paginated(api):
    values = ["ff" * 16, "00" * 16, "ab" * 16]
    status, payload = api.post("gateway/lists", {"name": "Keys", "type": "AAGUID",
                                                 "items": [{"value": v} for v in values]})
    assert status == 200 and [i["value"] for i in payload["result"]["items"]] == values
    list_id = payload["result"]["id"]
    status, payload = api.get(f"gateway/lists/{list_id}/items", QUERY_STRING="per_page=2")
    assert [i["value"] for i in payload["result"]] == values[:2]
    assert payload["result_info"] == {"page": 1, "per_page": 2, "count": 2, "total_count": 3, "total_pages": 2}
    status, payload = api.get(f"gateway/lists/{list_id}/items", QUERY_STRING="per_page=2&page=3")
    assert status == 200 and payload["result"] == [] and payload["result_info"]["count"] == 0
    payload = api.patch(f"gateway/lists/{list_id}", {"append": [{"value": "11" * 16}], "remove": ["00" * 16]})[1]
    assert [i["value"] for i in payload["result"]["items"]] == ["ff" * 16, "ab" * 16, "11" * 16]


# ------------------------------------------------------------------------------ routing
def test_trailing_slashes_route_and_unknown_paths_answer_7003_and_7000(api):
    assert api.get("access/organizations/")[0] == 200
    assert api.get("gateway/lists/")[0] == 200
    status, payload = api.get("access/nothing-here")
    assert status == 404 and [e["code"] for e in payload["errors"]] == [7003, 7000]
    assert "Could not route to /client/v4/accounts/" in payload["errors"][0]["message"]


def test_the_seed_bodies_still_work_verbatim_after_a_cloudflare_client(api, api_org):
    assert api.put("access/organizations", TERRAFORM_ORGANIZATION)[0] == 200
    status, payload = api.put("access/organizations", raw=TURN_ON)
    assert status == 200 and "amr_matching_session_duration" not in payload["result"]["mfa_config"]
    assert api.post("gateway/lists", raw=CREATE_LIST)[0] == 200
    assert AaguidList.objects.count() == 1 and Organization.objects.get(pk=api_org.pk).amr_matching_enabled is False
