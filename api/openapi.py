"""The OpenAPI 3.1 document of the REST API, built from :mod:`api.shapes` — the same descriptions
the readers check bodies against and the presenters follow — and served at
``/client/v4/openapi.json``. Nothing here is kept by hand but the list of operations."""

from __future__ import annotations

import copy
import functools

from . import pagination
from . import scopes as s
from . import shapes as sh

ENVELOPE_ERRORS = {"type": "array", "items": {
    "type": "object", "required": ["code", "message"], "additionalProperties": False,
    "properties": {"code": {"type": "integer"}, "message": {"type": "string"}}}}
RESULT_INFO = {"type": "object", "required": ["page", "per_page", "count", "total_count", "total_pages"],
               "additionalProperties": False,
               "properties": {name: {"type": "integer", "minimum": 0}
                              for name in ("page", "per_page", "count", "total_count", "total_pages")}}


def request_schema(shape: sh.Shape) -> dict:
    """What a write takes: every writable field (``null`` = not given) and the read-only ones
    (accepted and ignored, so ``GET`` → edit → ``PUT`` works); nothing else."""
    properties = {}
    for f in shape.fields:
        if f.name in shape.nested:
            schema = sh.nullable({"$ref": f"#/components/schemas/{shape.nested[f.name].name}Input"})
        else:
            schema = copy.deepcopy(f.schema)
            schema = sh.nullable(schema) if f.writable else dict(schema, readOnly=True)
        if f.description:
            schema["description"] = f.description + _role_note(f)
        elif _role_note(f):
            schema["description"] = _role_note(f).strip()
        properties[f.name] = schema
    return {"type": "object", "description": shape.description, "additionalProperties": False,
            "properties": properties, "required": [f.name for f in shape.fields if f.required]}


def _role_note(f: sh.Field) -> str:
    if f.role == sh.CLOUDFLARE:
        return " Cloudflare field mfagate does not act on: stored and returned as sent."
    if f.kept:
        return " Kept when a PUT omits it."
    return ""


def response_schema(shape: sh.Shape) -> dict:
    properties = {}
    for f in shape.fields:
        if f.name in shape.nested:
            ref = {"$ref": f"#/components/schemas/{shape.nested[f.name].name}"}
            nullable = "null" in (f.schema.get("type") or [])
            properties[f.name] = {"anyOf": [ref, {"type": "null"}]} if nullable else ref
        else:
            properties[f.name] = copy.deepcopy(f.response_schema or f.schema)
        if f.description:
            properties[f.name]["description"] = f.description
    required = [f.name for f in shape.fields if f.in_response and f.role != sh.CLOUDFLARE]
    if shape is sh.MFA_CONFIG:  # {"mfa_disabled": true} alone, or the custom settings
        required = ["mfa_disabled"]
    return {"type": "object", "description": shape.description, "additionalProperties": False,
            "properties": properties, "required": required}


def envelope(result: dict | None, *, listing: bool = False) -> dict:
    properties = {"success": {"type": "boolean"}, "errors": ENVELOPE_ERRORS,
                  "messages": {"type": "array"}, "result": result or {"type": "null"}}
    required = ["success", "errors", "messages", "result"]
    if listing:
        properties["result_info"] = RESULT_INFO
        required.append("result_info")
    return {"type": "object", "required": required, "additionalProperties": False, "properties": properties}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


ERROR = {"description": "An error envelope", **_json(_ref("ErrorEnvelope"))}
ERRORS = {str(code): dict(ERROR, description=text) for code, text in (
    (400, "Bad input (1001–1005): one error per problem, naming the field"),
    (401, "Missing, wrong, expired or revoked token (10000)"),
    (403, "The token lacks the scope, or its owner the permission (10003)"),
    (404, "No such account or object (10004)"),
    (405, "Method not allowed (10005)"),
    (409, "A concurrent change got there first (10009)"),
)}
PAGE_PARAMETERS = [
    {"name": "page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": pagination.MAX_PAGE, "default": 1}},
    {"name": "per_page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": pagination.MAX_PER_PAGE,
                "default": pagination.DEFAULT_PER_PAGE}},
]
USER_FILTERS = [
    {"name": "email", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "Exactly this address (case aside); never a part of one."},
    {"name": "name", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "Exactly this name, case aside."},
    {"name": "search", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "A part of the email address or the name."},
]

# path → method → (summary, scopes, request shape name or None, result schema name, listing)
OPERATIONS = {
    "/accounts/{account_id}/access/organizations": {
        "get": ("Get your Zero Trust organization", s.READ_ORGANIZATIONS, None, "Organization", False),
        "put": ("Update your Zero Trust organization", s.WRITE_ORGANIZATIONS, "Organization", "Organization", False),
    },
    "/accounts/{account_id}/gateway/lists": {
        "get": ("List AAGUID lists", s.READ_ORGANIZATIONS, None, "GatewayList", True),
        "post": ("Create an AAGUID list", s.WRITE_ORGANIZATIONS, "GatewayList", "GatewayList", False),
    },
    "/accounts/{account_id}/gateway/lists/{list_id}": {
        "get": ("Get an AAGUID list", s.READ_ORGANIZATIONS, None, "GatewayList", False),
        "put": ("Replace an AAGUID list", s.WRITE_ORGANIZATIONS, "GatewayList", "GatewayList", False),
        "patch": ("Append and remove items", s.WRITE_ORGANIZATIONS, "GatewayListPatch", "GatewayList", False),
        "delete": ("Delete an AAGUID list", s.WRITE_ORGANIZATIONS, None, "Deleted", False),
    },
    "/accounts/{account_id}/gateway/lists/{list_id}/items": {
        "get": ("List an AAGUID list's items", s.READ_ORGANIZATIONS, None, "GatewayItem", True),
    },
    "/accounts/{account_id}/access/users": {
        "get": ("List users", s.READ_USERS, None, "AccessUser", True),
    },
    "/accounts/{account_id}/access/users/{user_id}": {
        "get": ("Get a user", s.READ_USERS, None, "AccessUser", False),
    },
    "/accounts/{account_id}/access/users/{user_id}/mfa_authenticators": {
        "get": ("List a user's MFA devices", s.READ_USERS, None, "MfaAuthenticator", True),
    },
    "/accounts/{account_id}/access/users/{user_id}/mfa_authenticators/{authenticator_id}": {
        "delete": ("Delete a user's MFA device", s.REVOKE_USERS, None, "Deleted", False),
    },
    "/accounts/{account_id}/access/apps": {
        "get": ("List applications", s.READ_APPS_POLICIES, None, "Application", True),
        "post": ("Add an application", s.WRITE_APPS_POLICIES, "Application", "Application", False),
    },
    "/accounts/{account_id}/access/apps/{app_id}": {
        "get": ("Get an application", s.READ_APPS_POLICIES, None, "Application", False),
        "put": ("Update an application", s.WRITE_APPS_POLICIES, "Application", "Application", False),
        "delete": ("Delete an application", s.WRITE_APPS_POLICIES, None, "Deleted", False),
    },
    "/accounts/{account_id}/access/apps/{app_id}/policies": {
        "get": ("List an application's policies", s.READ_APPS_POLICIES, None, "Policy", True),
        "post": ("Create a policy attached to the application", s.WRITE_APPS_POLICIES, "Policy", "Policy", False),
    },
    "/accounts/{account_id}/access/policies": {
        "get": ("List policies", s.READ_APPS_POLICIES, None, "Policy", True),
        "post": ("Create a policy", s.WRITE_APPS_POLICIES, "Policy", "Policy", False),
    },
    "/accounts/{account_id}/access/policies/{policy_id}": {
        "get": ("Get a policy", s.READ_APPS_POLICIES, None, "Policy", False),
        "put": ("Update a policy", s.WRITE_APPS_POLICIES, "Policy", "Policy", False),
        "delete": ("Delete a policy", s.WRITE_APPS_POLICIES, None, "Deleted", False),
    },
}
SHAPES = (sh.ORGANIZATION, sh.ORGANIZATION_MFA, sh.MFA_CONFIG, sh.APPLICATION, sh.POLICY, sh.AAGUID_LIST,
          sh.ITEM, sh.USER, sh.AUTHENTICATOR)


def _parameters(path: str, method: str, listing: bool) -> list[dict]:
    out = [{"name": "account_id", "in": "path", "required": True,
            "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}, "description": "The organization's account id."}]
    for name in ("list_id", "user_id", "authenticator_id", "app_id", "policy_id"):
        if "{" + name + "}" in path:
            out.append({"name": name, "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}})
    if listing:
        out += PAGE_PARAMETERS
        if path.endswith("/access/users"):
            out += USER_FILTERS
    return out


@functools.cache
def document() -> dict:
    schemas = {}
    for shape in SHAPES:
        schemas[shape.name] = response_schema(shape)
        if any(f.writable for f in shape.fields):
            schemas[shape.name + "Input"] = request_schema(shape)
    schemas["GatewayListPatchInput"] = request_schema(sh.LIST_PATCH)
    schemas["Deleted"] = {"type": "object", "required": ["id"], "additionalProperties": False,
                          "properties": {"id": {"type": "string", "format": "uuid"}}}
    schemas["ErrorEnvelope"] = envelope({"type": "null"})
    schemas["ErrorEnvelope"]["properties"]["success"] = {"type": "boolean", "enum": [False]}
    paths = {}
    for path, methods in OPERATIONS.items():
        paths[path] = {}
        for method, (summary, scopes, body, result, listing) in methods.items():
            result_schema = {"type": "array", "items": _ref(result)} if listing else _ref(result)
            operation = {
                "summary": summary,
                "operationId": f"{method}_{path.split('{account_id}/')[1].replace('/', '_').replace('{', '').replace('}', '')}",
                "description": f"Token scopes (one suffices): {', '.join(scopes)}.",
                "parameters": _parameters(path, method, listing),
                "responses": {"200": {"description": "Success", **_json(envelope(result_schema, listing=listing))},
                              **{code: ERRORS[code] for code in ("400", "401", "403", "404", "405", "409")}},
            }
            if body is not None:
                operation["requestBody"] = {"required": True, **_json(_ref(body + "Input"))}
            paths[path][method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "mfagate REST API", "version": "1",
                 "description": "Cloudflare-compatible shapes for mfagate's organizations, AAGUID lists, "
                                "applications, policies and users (spec §6). Built from api/shapes.py."},
        "servers": [{"url": "/client/v4"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
