"""gateway/lists: AAGUID lists created with the seed body, replaced, patched, deleted — audited."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from mfa_policies.models import AaguidList
from tests.support.api import ASSIGN_LIST, CREATE_LIST, TURN_ON, ApiClient, db_state, messages

YUBIKEY = "8c39ee867f9a4a959ba3f6b097e5c2ee"
OTHER = "ee882879721c491397753dfcce97072a"


def test_create_with_the_seed_body_returns_the_id_and_items(api, api_org, api_admin):
    status, payload = api.post("gateway/lists", raw=CREATE_LIST)
    assert status == 200, payload
    result = payload["result"]
    obj = AaguidList.objects.get(pk=result["id"])
    assert obj.organization == api_org and result["type"] == "AAGUID" and result["count"] == 1
    assert result["items"] == [{"value": YUBIKEY,
                                "description": "YubiKey Bio Series - FIDO Edition (Enterprise Profile)"}]
    event = AuditEvent.objects.get(action="aaguidlist.create")
    assert event.actor == api_admin and event.object_id == result["id"]
    assert api.get("gateway/lists")[1]["result"][0]["id"] == result["id"]
    assert api.get(f"gateway/lists/{result['id']}")[1]["result"] == result


def test_values_are_normalised(api):
    status, payload = api.post("gateway/lists", {
        "name": "Keys", "type": "AAGUID", "items": [{"value": "8C39EE86-7F9A-4A95-9BA3-F6B097E5C2EE"}]})
    assert status == 200 and payload["result"]["items"][0]["value"] == YUBIKEY


def test_put_replaces_and_patch_appends_and_removes(api):
    list_id = api.post("gateway/lists", raw=CREATE_LIST)[1]["result"]["id"]
    status, payload = api.put(f"gateway/lists/{list_id}", {"name": "Renamed", "type": "AAGUID",
                                                           "items": [{"value": OTHER, "description": "Other"}]})
    assert status == 200 and payload["result"]["description"] == ""
    assert [i["value"] for i in payload["result"]["items"]] == [OTHER]
    status, payload = api.patch(f"gateway/lists/{list_id}", {
        "append": [{"value": YUBIKEY.upper(), "description": "YubiKey"}], "remove": [OTHER.upper()]})
    assert status == 200, payload
    assert payload["result"]["items"] == [{"value": YUBIKEY, "description": "YubiKey"}]
    assert AuditEvent.objects.filter(action="aaguidlist.update").count() == 2


def test_delete_is_audited_and_refused_while_the_organization_uses_the_list(api):
    api.put("access/organizations", raw=TURN_ON)
    list_id = api.post("gateway/lists", raw=CREATE_LIST)[1]["result"]["id"]
    api.put("access/organizations", raw=ASSIGN_LIST.replace("05ddacda-5131-41ab-9eeb-6763f8dce3be", list_id))
    before = db_state()
    status, payload = api.delete(f"gateway/lists/{list_id}")
    assert status == 400 and "Approved security keys" in messages(payload) and "Your Team Name" in messages(payload)
    assert db_state() == before
    api.put("access/organizations", raw=TURN_ON)  # required_aaguids omitted → null
    status, payload = api.delete(f"gateway/lists/{list_id}")
    assert status == 200 and not AaguidList.objects.filter(pk=list_id).exists()
    assert AuditEvent.objects.filter(action="aaguidlist.delete", object_id=list_id).exists()
    assert api.get(f"gateway/lists/{list_id}")[0] == 404


@pytest.mark.parametrize("body, needle", [
    ({"name": "x", "type": "IP"}, "type"),
    ({"name": "x", "items": "abc"}, "items"),
    ({"name": "x", "items": [YUBIKEY]}, "items[0]"),
    ({"name": "x", "items": [{"value": "xyz"}]}, "xyz"),
    ({"name": "x", "items": [{"value": 5}]}, "items[0].value"),
    ({"name": "x", "items": [{"value": YUBIKEY, "colour": 1}]}, "items[0].colour"),
    ({"name": "x", "items": [{"value": YUBIKEY, "description": 3}]}, "items[0].description"),
    ({"name": "x", "items": [{"value": YUBIKEY, "description": "d" * 256}]}, "items[0].description"),
    ({"name": "x", "items": [{"value": YUBIKEY}, {"value": YUBIKEY.upper()}]}, "already in this list"),
    ({"name": ""}, "name"),
    ({"name": ["x"]}, "name"),
    ({"name": "x", "extra": True}, "extra"),
])
def test_bad_list_bodies_are_400_and_write_nothing(api, body, needle):
    before = db_state()
    status, payload = api.post("gateway/lists", body)
    assert status == 400 and needle in messages(payload), payload
    assert db_state() == before


def test_a_duplicate_name_is_400(api):
    api.post("gateway/lists", raw=CREATE_LIST)
    before = db_state()
    status, payload = api.post("gateway/lists", raw=CREATE_LIST)
    assert status == 400 and db_state() == before


@pytest.mark.parametrize("body", [
    {"remove": [OTHER]}, {"remove": ["nope"]}, {"append": [{"value": YUBIKEY}]}, {"append": {}}, {"drop": []},
    {"remove": "x"},
])
def test_bad_patches_are_400_and_write_nothing(api, body):
    list_id = api.post("gateway/lists", raw=CREATE_LIST)[1]["result"]["id"]
    before = db_state()
    status, payload = api.patch(f"gateway/lists/{list_id}", body)
    assert status == 400, payload
    assert db_state() == before


def test_ids_bad_unknown_or_from_another_account(client, api, make_org, make_token):
    assert api.get("gateway/lists/not-a-uuid")[0] == 400
    assert api.get("gateway/lists/05ddacda-5131-41ab-9eeb-6763f8dce3be")[0] == 404
    other = make_org("Other")
    _, plaintext = make_token(other)
    other_api = ApiClient(client, other.account_id, plaintext)
    foreign = other_api.post("gateway/lists", raw=CREATE_LIST)[1]["result"]["id"]
    before = db_state()
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        assert api.call(method, f"gateway/lists/{foreign}", {} if method in ("PUT", "PATCH") else None)[0] == 404
    assert db_state() == before
    assert all(item["id"] != foreign for item in api.get("gateway/lists")[1]["result"])
