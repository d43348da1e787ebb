"""The API refuses what the admin refuses — values nested too deeply, too many rules or prefixes,
strings too long, too many AAGUIDs — with its 400 envelope naming the field, never a 500, and
writes nothing (README "Limits")."""

from __future__ import annotations

import pytest

from mfa_policies import constants as c
from tests.support.api import db_state, messages

EVERYONE = [{"selector": "everyone", "value": ""}]
YUBIKEY = "8c39ee867f9a4a959ba3f6b097e5c2ee"


def _nested(depth: int):
    value = "/a/"
    for _ in range(depth):
        value = [value]
    return value


@pytest.fixture
def mfa_on(api_org):
    api_org.allowed_authenticators = [c.TOTP, c.SECURITY_KEY]
    api_org.save()
    return api_org


@pytest.mark.parametrize("body, field, words", [
    # a nested value is refused by the rule parser (Cloudflare's one-key shape) before the depth limit
    ({"include": [_nested(5)]}, "include", None),
    ({"include": [_nested(30)]}, "include", None),
    ({"include": EVERYONE * 201}, "include", "201 rules; at most 200"),
    ({"include": EVERYONE, "require": [{"selector": "email", "value": "a" * 1025 + "@b.test"}]}, "require",
     "1032 characters long; at most 1024"),
    ({"include": [{"selector": "role", "value": ["x"] * 300}]}, "include", "300 entries; at most 200"),
])
def test_policy_rules_over_the_limits_are_400_naming_the_field(api, mfa_on, body, field, words):
    before = db_state()
    status, payload = api.post("access/policies", {"name": "P", **body})
    assert status == 400, payload
    assert any(e["message"].startswith(field) for e in payload["errors"]), payload
    assert words is None or words in messages(payload)
    assert db_state() == before


@pytest.mark.parametrize("prefixes, words", [
    ([f"/p{i}/" for i in range(101)], "101 path prefixes; at most 100"),
    (["/" + "a" * 1024], "1025 characters long; at most 1024"),
    ([_nested(6)], ""),  # refused as not a path, before the depth limit
])
def test_path_prefixes_over_the_limits_are_400_naming_the_field(api, mfa_on, prefixes, words):
    before = db_state()
    status, payload = api.post("access/apps", {"name": "A", "path_prefixes": prefixes})
    assert status == 400 and "path_prefixes" in messages(payload) and words in messages(payload), payload
    assert db_state() == before


def test_methods_over_the_limits_are_400_naming_the_field(api):
    before = db_state()
    status, payload = api.put("access/organizations", {
        "name": "Your Team Name", "mfa_config": {"allowed_authenticators": ["sms"] * 300}})
    assert status == 400 and "allowed_authenticators" in messages(payload), payload
    assert db_state() == before


def test_an_aaguid_list_over_the_limits_is_400(api):
    before = db_state()
    items = [{"value": f"{i:032x}"} for i in range(1001)]
    status, payload = api.post("gateway/lists", {"name": "Many", "items": items})
    assert status == 400 and "1001 AAGUIDs; at most 1000" in messages(payload), payload
    status, payload = api.post("gateway/lists", {"name": "Long", "description": "d" * 1025})
    assert status == 400 and messages(payload).startswith("description: ") and "at most 1024" in messages(payload)
    assert db_state() == before


def test_a_value_quoted_in_a_refusal_is_cut_short(api, mfa_on):
    status, payload = api.post("access/policies", {"name": "P", "include": [{"selector": "email", "value": "x" * 1000}]})
    assert status == 400 and len(messages(payload)) < 300, payload
