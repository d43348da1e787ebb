"""Fixtures and helpers for the REST API tests: an admin, a token, and a client speaking JSON."""

from __future__ import annotations

import json

import pytest

from api.scopes import SCOPES

SEED_DOMAIN = "your-team-name.cloudflareaccess.com"


class ApiClient:
    """The Django test client, sending ``Authorization: Bearer`` and JSON like ``curl --json``."""

    def __init__(self, client, account_id: str, plaintext: str | None):
        self.client, self.account_id, self.plaintext = client, account_id, plaintext

    def url(self, path: str, account_id: str | None = None) -> str:
        return f"/client/v4/accounts/{account_id or self.account_id}/{path}"

    def call(self, method: str, path: str, body=None, *, raw: bytes | str | None = None, token: str | None = None,
             account_id: str | None = None, **extra):
        headers = {}
        plaintext = self.plaintext if token is None else token
        if plaintext:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {plaintext}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        kwargs = {"content_type": "application/json"} if data is not None else {}
        if data is not None:
            kwargs["data"] = data
        response = getattr(self.client, method.lower())(self.url(path, account_id), **kwargs, **headers, **extra)
        assert response["Content-Type"] == "application/json", response.content[:200]
        payload = response.json()
        assert set(payload) == {"success", "errors", "messages", "result"}
        assert payload["success"] is (response.status_code < 400)
        assert all(set(e) == {"code", "message"} and isinstance(e["code"], int) for e in payload["errors"])
        return response.status_code, payload

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


def messages(payload) -> str:
    return " | ".join(error["message"] for error in payload["errors"])


@pytest.fixture
def admin_user(make_user):
    return make_user("admin@api.test", is_staff=True, is_superuser=True)


@pytest.fixture
def make_token(db, admin_user):
    from api.models import ApiToken
    from api.services import api_token_create

    def make(org, scopes=SCOPES, owner=None, **fields):
        token, plaintext = api_token_create(
            acting_user=admin_user,
            token=ApiToken(name="ci", owner=owner or admin_user, organization=org, scopes=list(scopes), **fields),
        )
        return token, plaintext

    return make


@pytest.fixture
def org(make_org):
    return make_org("Your Team Name", auth_domain=SEED_DOMAIN, allowed_authenticators=[])


@pytest.fixture
def api(client, org, make_token):
    _, plaintext = make_token(org)
    return ApiClient(client, org.account_id, plaintext)


def db_state():
    """Everything the API can write, to prove a refused request wrote nothing."""
    from accounts.models import AuditEvent
    from enrollment.models import Authenticator
    from mfa_policies.models import AaguidItem, AaguidList, AppPolicy, Application, Organization, Policy

    def rows(model, *exclude):
        return sorted(
            (tuple((k, repr(v)) for k, v in sorted(row.items()) if k not in exclude)
             for row in model.objects.values()),
        )

    return {
        "audit": AuditEvent.objects.count(),
        "organizations": rows(Organization, "updated_at"),
        "exempt_roles": sorted(Organization.exempt_roles.through.objects.values_list("organization_id", "role_id")),
        "exempt_connections": sorted(
            Organization.exempt_connections.through.objects.values_list("organization_id", "connection_id")),
        "lists": rows(AaguidList, "updated_at"),
        "items": rows(AaguidItem),
        "apps": rows(Application, "updated_at"),
        "policies": rows(Policy, "updated_at"),
        "attached": rows(AppPolicy),
        "authenticators": rows(Authenticator),
    }
