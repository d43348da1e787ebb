"""access/apps and access/policies CRUD with the three-mode mfa_config, through the services."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from mfa_policies import constants as c
from mfa_policies.models import AppPolicy, Application, Policy
from tests.support.api import db_state, messages

EVERYONE = [{"selector": "everyone", "value": ""}]
NO_SUCH_ID = "8f9d3a52-5c1e-4d4b-9b51-0c0c5fb1f00d"


@pytest.fixture
def mfa_on(api_org):
    api_org.allowed_authenticators = [c.TOTP, c.SECURITY_KEY]
    api_org.save()
    return api_org


def test_policy_crud_with_each_mfa_mode(api, mfa_on):
    status, payload = api.post("access/policies", {
        "name": "Staff", "decision": "allow", "include": [{"selector": "email_domain", "value": "Example.COM"}],
        "mfa_config": {"allowed_authenticators": ["security_key"], "session_duration": "1h"}})
    assert status == 200, payload
    policy = Policy.objects.get(public_id=payload["result"]["id"])
    assert policy.mfa_mode == c.MODE_CUSTOM and policy.mfa_session_duration == "1h"
    # Stored as {"selector", "value"} (the old shape is still accepted); answered in Cloudflare's shape.
    assert policy.include == [{"selector": "email_domain", "value": "example.com"}]
    assert payload["result"]["include"] == [{"email_domain": {"domain": "example.com"}}]
    assert payload["result"]["mfa_config"] == {"mfa_disabled": False, "allowed_authenticators": ["security_key"],
                                               "session_duration": "1h"}
    pid = str(policy.public_id)
    status, payload = api.put(f"access/policies/{pid}", {"name": "Staff", "include": EVERYONE,
                                                         "mfa_config": {"mfa_disabled": True}})
    assert status == 200 and Policy.objects.get(public_id=pid).mfa_mode == c.MODE_DISABLED
    status, payload = api.put(f"access/policies/{pid}", {"name": "Staff", "include": EVERYONE})
    assert status == 200 and payload["result"]["mfa_config"] is None
    assert Policy.objects.get(public_id=pid).mfa_mode == c.MODE_INHERIT
    assert api.get(f"access/policies/{pid}")[1]["result"]["name"] == "Staff"
    assert [p["id"] for p in api.get("access/policies")[1]["result"]] == [pid]
    assert api.delete(f"access/policies/{pid}")[0] == 200 and not Policy.objects.filter(public_id=pid).exists()
    assert [e.action for e in AuditEvent.objects.exclude(action="apitoken.create").order_by("id")] == [
        "policy.create", "policy.update", "policy.update", "policy.delete"]


def test_app_crud_with_attached_policies_revokes_sessions(api, mfa_on, make_policy):
    first, second = make_policy(mfa_on, "First"), make_policy(mfa_on, "Second")
    status, payload = api.post("access/apps", {
        "name": "Payroll", "path_prefixes": ["/payroll/"], "session_duration": "8h",
        "policies": [{"id": str(first.public_id), "precedence": 1}, {"id": str(second.public_id), "precedence": 2}],
        "mfa_config": {"allowed_authenticators": ["totp"], "session_duration": "30m"}})
    assert status == 200, payload
    app = Application.objects.get(public_id=payload["result"]["id"])
    assert app.mfa_mode == c.MODE_CUSTOM and app.session_duration == "8h"
    assert [(p["id"], p["precedence"]) for p in payload["result"]["policies"]] == [
        (str(first.public_id), 1), (str(second.public_id), 2)]
    version = app.config_version
    # Swap the precedences: GET → edit → PUT.
    body = api.get(f"access/apps/{app.public_id}")[1]["result"]
    body["policies"] = [{"id": str(first.public_id), "precedence": 2}, {"id": str(second.public_id), "precedence": 1}]
    status, payload = api.put(f"access/apps/{app.public_id}", body)
    assert status == 200, payload
    assert list(AppPolicy.objects.filter(application=app).order_by("precedence").values_list("policy_id", flat=True)) \
        == [second.pk, first.pk]
    assert Application.objects.get(pk=app.pk).config_version > version
    # PUT without policies keeps them (issue 10: a client that does not send them must not detach
    # them all); without mfa_config returns to inherit; "policies": [] detaches them.
    status, payload = api.put(f"access/apps/{app.public_id}", {"name": "Payroll", "path_prefixes": ["/payroll/"]})
    assert status == 200 and [p["id"] for p in payload["result"]["policies"]] == [
        str(first.public_id), str(second.public_id)]
    assert payload["result"]["mfa_config"] is None and payload["result"]["session_duration"] == "24h"
    status, payload = api.put(f"access/apps/{app.public_id}", {"name": "Payroll", "policies": []})
    assert status == 200 and payload["result"]["policies"] == [] and payload["result"]["path_prefixes"] == ["/payroll/"]
    assert api.delete(f"access/apps/{app.public_id}")[0] == 200 and not Application.objects.filter(pk=app.pk).exists()
    assert AuditEvent.objects.filter(action="application.delete").exists()


def test_custom_mfa_while_the_organization_has_it_off_is_refused(api, api_org):
    before = db_state()
    status, payload = api.post("access/apps", {"name": "A", "mfa_config": {"allowed_authenticators": ["totp"],
                                                                           "session_duration": "1h"}})
    assert status == 400 and messages(payload).startswith("mfa_config: custom MFA settings need independent MFA")
    assert db_state() == before


@pytest.mark.parametrize("body, field", [
    ({"name": 1}, "name"),
    ({"name": ""}, "name"),
    ({"name": "A", "path_prefixes": "/a/"}, "path_prefixes"),
    ({"name": "A", "path_prefixes": ["a/"]}, "path_prefixes"),
    ({"name": "A", "session_duration": "1 hour"}, "session_duration"),
    ({"name": "A", "session_duration": True}, "session_duration"),
    ({"name": "A", "mfa_config": "custom"}, "mfa_config"),
    ({"name": "A", "mfa_config": {"mfa_disabled": "yes"}}, "mfa_config.mfa_disabled"),
    ({"name": "A", "mfa_config": {"mfa_disabled": True, "allowed_authenticators": ["totp"]}}, "mfa_config"),
    ({"name": "A", "mfa_config": {"allowed_authenticators": []}}, "mfa_config.allowed_authenticators"),
    ({"name": "A", "mfa_config": {"allowed_authenticators": ["sms"], "session_duration": "1h"}},
     "mfa_config.allowed_authenticators"),
    ({"name": "A", "mfa_config": {"allowed_authenticators": ["totp"], "session_duration": "99999h"}},
     "mfa_config.session_duration"),
    ({"name": "A", "mfa_config": {"allowed_authenticators": ["totp"]}}, "mfa_config.session_duration"),
    ({"name": "A", "mfa_config": {"other": 1}}, "mfa_config.other"),
    ({"name": "A", "policies": {}}, "policies"),
    ({"name": "A", "policies": [1]}, "policies[0]"),
    ({"name": "A", "policies": [{"id": "1", "precedence": 1}]}, "policies[0].id"),
    ({"name": "A", "policies": [{"id": 1, "precedence": 1}]}, "policies[0].id"),
    ({"name": "A", "policies": [{"id": NO_SUCH_ID, "precedence": 1}]}, "policies[0].id"),
    ({"name": "A", "policies": [NO_SUCH_ID]}, "policies[0].id"),
    ({"name": "A", "policies": [{"id": NO_SUCH_ID, "precedence": 0}]}, "policies[0].precedence"),
    ({"name": "A", "policies": [{"id": NO_SUCH_ID, "precedence": 10**40}]}, "policies[0].precedence"),
    ({"name": "A", "policies": [{"id": NO_SUCH_ID, "precedence": True}]}, "policies[0].precedence"),
    ({"name": "A", "policies": [{"id": NO_SUCH_ID, "precedence": 1, "x": 1}]}, "policies[0].x"),
    ({"name": "A", "policies": [{"id": NO_SUCH_ID, "include": []}]}, "policies[0].include"),
    ({"name": "A", "type": "saas"}, "type"),
    ({"name": "A", "domain": "https://a.example.com/x"}, "domain"),
    ({"name": "A", "domain": "a.example.com/x", "path_prefixes": ["/y"]}, "path_prefixes"),
    ({"name": "A", "allow_iframe": "yes"}, "allow_iframe"),
    ({"name": "A", "extra": 1}, "extra"),
])
def test_bad_app_bodies_are_400_naming_the_field_and_write_nothing(api, mfa_on, body, field):
    before = db_state()
    status, payload = api.post("access/apps", body)
    assert status == 400, payload
    assert any(e["message"].startswith(field) for e in payload["errors"]), payload
    assert db_state() == before


def test_policies_repeated_or_from_another_account_are_400(api, mfa_on, make_org, make_policy, make_app):
    mine, theirs = make_policy(mfa_on, "Mine"), make_policy(make_org("Other"), "Theirs")
    app = make_app(mfa_on, "Existing")
    before = db_state()
    mine_id, theirs_id = str(mine.public_id), str(theirs.public_id)
    for policies in ([{"id": theirs_id, "precedence": 1}],
                     [{"id": mine_id, "precedence": 1}, {"id": mine_id, "precedence": 2}],
                     [{"id": mine_id, "precedence": 1}, {"id": theirs_id, "precedence": 1}]):
        status, payload = api.put(f"access/apps/{app.public_id}", {"name": "Existing", "policies": policies})
        assert status == 400 and "policies" in messages(payload), payload
    status, payload = api.put(f"access/apps/{app.public_id}", {"name": "Existing", "policies": [
        {"id": mine_id, "precedence": 1}], "session_duration": "1d"})
    assert status == 400 and "session_duration" in messages(payload)
    assert db_state() == before
    status, payload = api.put(f"access/apps/{app.public_id}", {"name": "Existing", "policies": [
        {"id": str(make_policy(mfa_on, "Second").public_id), "precedence": 1}, {"id": mine_id, "precedence": 1}]})
    assert status == 400 and "precedence 1 is used twice" in messages(payload)


@pytest.mark.parametrize("body, field", [
    ({"name": "P"}, "include"),
    ({"name": "P", "include": "everyone"}, "include"),
    ({"name": "P", "include": [{"selector": "planet", "value": "x"}]}, "include[0]"),
    ({"name": "P", "include": [{"selector": "email", "value": "not-an-email"}]}, "include[0]"),
    ({"name": "P", "include": [{"selector": "role", "value": "ghost"}]}, "include[0]"),
    ({"name": "P", "include": EVERYONE, "require": [5]}, "require[0]"),
    ({"name": "P", "include": EVERYONE, "exclude": [{"selector": "email", "value": 3}]}, "exclude[0]"),
    ({"name": "P", "include": EVERYONE, "decision": "maybe"}, "decision"),
    ({"name": "P", "include": EVERYONE, "decision": ["allow"]}, "decision"),
    ({"name": "P", "include": EVERYONE, "decision": "deny",
      "mfa_config": {"allowed_authenticators": ["totp"], "session_duration": "1h"}}, "mfa_config"),
    ({"name": "P", "include": EVERYONE, "colour": "red"}, "colour"),
])
def test_bad_policy_bodies_are_400_naming_the_field_and_write_nothing(api, mfa_on, body, field):
    before = db_state()
    status, payload = api.post("access/policies", body)
    assert status == 400, payload
    assert any(e["message"].startswith(field) for e in payload["errors"]), payload
    assert db_state() == before


def test_changing_an_attached_policy_by_api_revokes_its_apps_sessions(api, mfa_on, make_app, make_policy):
    app = make_app(mfa_on)
    policy = make_policy(mfa_on, "P", apps=[app])
    version = Application.objects.get(pk=app.pk).config_version
    status, _ = api.put(f"access/policies/{policy.public_id}", {"name": "P", "include": EVERYONE,
                                                         "mfa_config": {"mfa_disabled": True}})
    assert status == 200 and Application.objects.get(pk=app.pk).config_version > version


def test_ids_bad_unknown_or_from_another_account(api, make_org, make_app, make_policy):
    other = make_org("Other")
    app, policy = make_app(other), make_policy(other)
    before = db_state()
    assert api.get("access/apps/abc")[0] == 400 and api.get("access/policies/-1")[0] == 400
    assert api.get(f"access/apps/{app.pk}")[0] == 400  # integer ids are internal: the API speaks UUIDs
    for path in (f"access/apps/{app.public_id}", f"access/policies/{policy.public_id}", f"access/apps/{NO_SUCH_ID}"):
        assert api.get(path)[0] == 404
        assert api.put(path, {"name": "x"})[0] == 404
        assert api.delete(path)[0] == 404
    assert db_state() == before
    assert api.get("access/apps")[1]["result"] == [] and api.get("access/policies")[1]["result"] == []


@pytest.mark.parametrize("path", ["access/apps", "access/policies", "gateway/lists"])
@pytest.mark.parametrize("raw", ["nope", "[1]", "{\"name\": \"a\\u0000\"}", "{" * 100])
def test_every_post_refuses_non_json(api, path, raw):
    before = db_state()
    status, payload = api.post(path, raw=raw)
    assert status == 400 and payload["errors"][0]["code"] == 1001
    assert db_state() == before
