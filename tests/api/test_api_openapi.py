"""The OpenAPI 3.1 document at /client/v4/openapi.json, built from api/shapes.py, and a bounded
schemathesis run over every operation in-process (positive and negative data): no 5xx, no answer
outside the schema (status code, content type, body)."""

from __future__ import annotations

import copy
import datetime as dt
import uuid

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from api import openapi
from api import shapes as sh
from enrollment.models import Authenticator
from mfa_policies import constants as c

EXAMPLES_PER_OPERATION_AND_MODE = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_the_document_is_served_without_a_token_and_is_openapi_3_1(client):
    response = client.get("/client/v4/openapi.json")
    assert response.status_code == 200 and response.json()["openapi"] == "3.1.0"
    assert response.json() == openapi.document()
    schemathesis.openapi.from_dict(copy.deepcopy(openapi.document()))  # it loads: a valid document


def test_the_document_describes_what_the_readers_take():
    """Generated from the shapes: every field a reader knows is in the request schema, and no other."""
    schemas = openapi.document()["components"]["schemas"]
    for shape in (sh.ORGANIZATION, sh.APPLICATION, sh.POLICY, sh.AAGUID_LIST, sh.ORGANIZATION_MFA, sh.MFA_CONFIG):
        assert set(schemas[shape.name + "Input"]["properties"]) == shape.names
        assert schemas[shape.name + "Input"]["additionalProperties"] is False
    assert "allow_authenticate_via_warp" in schemas["OrganizationInput"]["properties"]
    assert "amr_matching_session_duration" in schemas["OrganizationMfaConfigInput"]["properties"]


def _in_this_transaction(app):
    """The WSGI app without its end-of-request connection close (as Django's test client does): the
    requests run inside this test's transaction, on PostgreSQL too."""

    def wsgi(environ, start_response):
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            return list(app(environ, start_response))
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)

    return wsgi


def _pin(document: dict, values: dict[str, list[str]]) -> dict:
    """The document with path parameters pinned to this account and to ids that exist (and one that
    does not), so generated requests reach the views instead of stopping at 404."""
    document = copy.deepcopy(document)
    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation["parameters"]:
                if parameter["in"] == "path" and parameter["name"] in values:
                    parameter["schema"] = {"type": "string", "enum": values[parameter["name"]]}
    return document


@pytest.mark.django_db(transaction=False)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(api_org, make_token, make_user, make_member,
                                                                    make_app, make_policy, api):
    api_org.allowed_authenticators = [c.TOTP, c.SECURITY_KEY]
    api_org.save()
    _, plaintext = make_token(api_org)
    member = make_user("member@x.test", name="Member")
    make_member(member, api_org)
    device = Authenticator.objects.create(user=member, kind=c.SECURITY_KEY, name="Key", credential_id=uuid.uuid4().hex,
                                          public_key=b"k", created_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    app = make_app(api_org, "App", path_prefixes=["/schemathesis/"])
    policy = make_policy(api_org, "Policy", apps=[app])
    list_id = api.post("gateway/lists", {"name": "Keys", "items": [{"value": "8c39ee867f9a4a959ba3f6b097e5c2ee"}]})[
        1]["result"]["id"]
    missing = str(uuid.uuid4())
    document = _pin(openapi.document(), {
        "account_id": [api_org.account_id], "list_id": [list_id, missing], "user_id": [str(member.pk), missing],
        "authenticator_id": [str(device.pk), missing], "app_id": [str(app.public_id), missing],
        "policy_id": [str(policy.public_id), missing]})
    schema = schemathesis.openapi.from_dict(document)
    schema.app = _in_this_transaction(get_wsgi_application())
    headers = {"Authorization": f"Bearer {plaintext}"}
    ran = {"cases": 0, "operations": 0}

    for result in schema.get_all_operations():
        operation = result.ok()
        ran["operations"] += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES_PER_OPERATION_AND_MODE, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            def run(case):
                ran["cases"] += 1
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS)

            run()
    assert ran["operations"] == sum(len(methods) for methods in document["paths"].values()) == 25
    assert ran["cases"] >= 25 * 2 * 5, ran
    print(f"schemathesis: {ran['cases']} cases over {ran['operations']} operations")
