"""Tokens: 401 for a wrong, missing, expired or revoked one, 404 for another account, 403 without
the scope, 405 for a wrong method; the plaintext is never stored."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import AuditEvent
from api import scopes as s
from api.models import ApiToken, hash_token
from api.services import api_token_revoke
from tests.support.api import ApiClient, messages


def test_only_the_hash_is_stored_and_creation_is_audited(api_org, make_token):
    token, plaintext = make_token(api_org)
    assert plaintext.startswith("mfagate_") and len(plaintext) > 40
    row = ApiToken.objects.get(pk=token.pk)
    assert row.secret_hash == hash_token(plaintext) and plaintext not in str(ApiToken.objects.values().get())
    assert AuditEvent.objects.filter(action="apitoken.create", object_id=str(token.pk)).exists()


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic abc", "Bearer mfagate_nope",
                                    "Bearer mfagate_000000000000xxxxxxxx"])
def test_missing_or_wrong_token_is_401(client, api_org, make_token, header):
    make_token(api_org)
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = client.get(f"/client/v4/accounts/{api_org.account_id}/access/organizations", **extra)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == 10000 and response.json()["success"] is False


def test_a_tampered_secret_with_a_real_key_id_is_401(client, api_org, make_token):
    _, plaintext = make_token(api_org)
    api = ApiClient(client, api_org.account_id, plaintext[:-1] + ("a" if plaintext[-1] != "a" else "b"))
    assert api.get("access/organizations")[0] == 401


def test_revoked_and_expired_tokens_are_401(client, api_org, make_token, api_admin, clock):
    token, plaintext = make_token(api_org)
    api = ApiClient(client, api_org.account_id, plaintext)
    assert api.get("access/organizations")[0] == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at == clock.now
    api_token_revoke(acting_user=api_admin, token=token)
    assert api.get("access/organizations")[0] == 401
    assert AuditEvent.objects.filter(action="apitoken.revoke").count() == 1

    _, plaintext = make_token(api_org, expires_at=clock.now + dt.timedelta(hours=1))
    api = ApiClient(client, api_org.account_id, plaintext)
    assert api.get("access/organizations")[0] == 200
    clock.advance(hours=1)
    assert api.get("access/organizations")[0] == 401


def test_a_token_whose_owner_is_no_longer_staff_is_401(api, api_admin):
    api_admin.is_staff = False
    api_admin.save()
    assert api.get("access/organizations")[0] == 401


def test_a_token_for_another_account_gets_404_there(client, api_org, make_org, make_token):
    other = make_org("Other")
    _, plaintext = make_token(other)
    api = ApiClient(client, api_org.account_id, plaintext)
    for path in ("access/organizations", "gateway/lists", "access/users", "access/apps", "access/policies"):
        status, payload = api.get(path)
        assert status == 404 and payload["errors"][0]["code"] == 10004
    assert api.get("access/organizations", account_id="0" * 32)[0] == 404
    assert api.get("access/organizations", account_id="not-an-account")[0] == 404


@pytest.mark.parametrize("scopes, method, path, expected", [
    ((s.ORGANIZATIONS_READ,), "GET", "access/organizations", 200),
    ((s.ORGANIZATIONS_REVOKE,), "GET", "access/organizations", 200),
    ((s.ORGANIZATIONS_READ,), "PUT", "access/organizations", 403),
    ((s.ORGANIZATIONS_REVOKE,), "PUT", "access/organizations", 403),
    ((s.APPS_POLICIES_WRITE,), "GET", "access/organizations", 403),
    ((s.ORGANIZATIONS_READ,), "POST", "gateway/lists", 403),
    ((s.APPS_POLICIES_READ,), "GET", "access/apps", 200),
    ((s.APPS_POLICIES_READ,), "POST", "access/apps", 403),
    ((s.APPS_POLICIES_READ,), "POST", "access/policies", 403),
    ((s.ORGANIZATIONS_WRITE,), "GET", "access/policies", 403),
    ((s.USERS_READ,), "GET", "access/users", 200),
    ((s.USERS_REVOKE,), "GET", "access/users", 200),
    ((s.ORGANIZATIONS_WRITE,), "GET", "access/users", 403),
])
def test_scopes(client, api_org, make_token, scopes, method, path, expected):
    _, plaintext = make_token(api_org, scopes=scopes)
    api = ApiClient(client, api_org.account_id, plaintext)
    audits = AuditEvent.objects.count()
    status, payload = api.call(method, path, {"name": "Your Team Name"} if method in ("PUT", "POST") else None)
    assert status == expected or (expected == 200 and status == 400), payload
    if status == 403:
        assert payload["errors"][0]["code"] == 10003 and AuditEvent.objects.count() == audits


def test_a_user_delete_needs_the_revoke_scope(client, api_org, make_token, make_user, make_member):
    _, plaintext = make_token(api_org, scopes=(s.USERS_READ,))
    member = make_user()
    make_member(member, api_org)
    api = ApiClient(client, api_org.account_id, plaintext)
    status, _ = api.delete(f"access/users/{member.pk}/mfa_authenticators/00000000-0000-0000-0000-000000000000")
    assert status == 403


@pytest.mark.parametrize("method, path", [
    ("POST", "access/organizations"), ("DELETE", "access/organizations"), ("PATCH", "access/organizations"),
    ("PUT", "gateway/lists"), ("POST", "access/users"),
])
def test_wrong_method_is_405(api, method, path):
    status, payload = api.call(method, path, {})
    assert status == 405 and payload["errors"][0]["code"] == 10005


def test_an_unknown_endpoint_is_a_404_envelope(api):
    status, payload = api.get("access/nothing-here")
    assert status == 404 and payload["success"] is False


def test_csrf_does_not_apply_to_bearer_requests(api_org, make_token):
    from django.test import Client

    _, plaintext = make_token(api_org)
    api = ApiClient(Client(enforce_csrf_checks=True), api_org.account_id, plaintext)
    status, payload = api.put("access/organizations", {"name": "Renamed"})
    assert status == 200, messages(payload)


def test_an_application_covering_the_api_path_does_not_gate_it(api, api_org, make_app):
    make_app(api_org, "Greedy", path_prefixes=["/client/"])
    assert api.get("access/organizations")[0] == 200


def test_a_signed_in_admin_browser_session_is_not_an_api_credential(client, api_org, api_admin):
    """The API is csrf-exempt because it takes bearer tokens only; a session cookie must not work."""
    from accounts.models import User
    from mfa_policies.models import Organization

    superuser = User.objects.create_superuser("root@x.test", "pw-12345678")
    client.force_login(superuser)
    base = f"/client/v4/accounts/{api_org.account_id}/access/organizations"
    assert client.get(base).status_code == 401
    before = Organization.objects.filter(pk=api_org.pk).values().get()
    response = client.put(base, {"name": "Hijacked", "auth_domain": "x"}, content_type="application/json")
    assert response.status_code == 401
    assert Organization.objects.filter(pk=api_org.pk).values().get() == before
