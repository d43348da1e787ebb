"""The API names the field of every refusal itself, in front of the admin's words: ``"<field>:
<words>"``, with the API's name for the field and, inside a value, the exact place."""

from __future__ import annotations

import json

from mfa_policies import constants as c
from mfa_policies.messages import message
from tests.support.api import AMR_MATCHING, ASSIGN_LIST, CREATE_LIST, TURN_ON, messages


def test_a_refused_rule_is_named_by_its_place(api, api_org):
    api_org.allowed_authenticators = [c.TOTP]
    api_org.save()
    status, payload = api.post("access/policies", {"name": "P", "include": [
        {"selector": "everyone", "value": ""}, {"selector": "role", "value": "ghost"}]})
    assert status == 400
    assert [e["message"] for e in payload["errors"]] == ["include[1]: there is no role with key “ghost”."]


def test_the_words_are_the_admins_after_the_api_name_of_the_field(api, api_org):
    api.put("access/organizations", raw=TURN_ON)
    list_id = api.post("gateway/lists", raw=CREATE_LIST)[1]["result"]["id"]
    api.put("access/organizations", raw=ASSIGN_LIST.replace("05ddacda-5131-41ab-9eeb-6763f8dce3be", list_id))
    body = json.loads(AMR_MATCHING)
    body["mfa_config"]["required_aaguids"] = list_id
    status, payload = api.put("access/organizations", body)
    assert status == 400
    assert messages(payload) == "mfa_config.amr_matching_enabled: " + message("amr_with_aaguid_list")


def test_an_ordinary_first_word_reads_as_a_clause(api, api_org):
    status, payload = api.put("access/organizations", {"name": "   "})
    assert status == 400 and messages(payload) == "name: an organization needs a name."
