"""Helpers for the REST API tests: a client speaking JSON, the seed-002 request bodies as written,
and a snapshot of everything the API can write. The fixtures are in tests/api/conftest.py."""

from __future__ import annotations

import json

SEED_DOMAIN = "your-team-name.cloudflareaccess.com"

# The seed-002 bodies, as the spec writes them (spec §6).
TURN_ON = """{
    "auth_domain": "your-team-name.cloudflareaccess.com",
    "name": "Your Team Name",
    "mfa_config": {
        "allowed_authenticators": [
            "totp",
            "biometrics",
            "security_key"
        ],
        "session_duration": "24h"
    },
    "mfa_required_for_all_apps": false
  }"""

CREATE_LIST = """{
    "name": "Approved security keys",
    "description": "AAGUIDs for MFA enrollment",
    "type": "AAGUID",
    "items": [
        {
            "value": "8c39ee867f9a4a959ba3f6b097e5c2ee",
            "description": "YubiKey Bio Series - FIDO Edition (Enterprise Profile)"
        }
    ]
  }"""

ASSIGN_LIST = """{
    "auth_domain": "your-team-name.cloudflareaccess.com",
    "name": "Your Team Name",
    "mfa_config": {
        "allowed_authenticators": [
            "security_key",
            "totp",
            "biometrics"
        ],
        "session_duration": "24h",
        "required_aaguids": "05ddacda-5131-41ab-9eeb-6763f8dce3be"
    }
  }"""

AMR_MATCHING = """{
    "auth_domain": "your-team-name.cloudflareaccess.com",
    "name": "Your Team Name",
    "mfa_config": {
        "allowed_authenticators": [
            "totp",
            "biometrics",
            "security_key"
        ],
        "session_duration": "24h",
        "amr_matching_enabled": true,
        "amr_session_duration": "1h"
    }
  }"""

TURN_OFF = """{
    "auth_domain": "your-team-name.cloudflareaccess.com",
    "name": "Your Team Name",
    "mfa_config": {
        "allowed_authenticators": []
    }
  }"""


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
        assert set(payload) - {"result_info"} == {"success", "errors", "messages", "result"}
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
