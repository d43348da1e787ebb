"""The API's resources described once: every field with its JSON Schema and its role.

The readers in :mod:`api.serializers` check bodies against these shapes (known fields, JSON types)
before reading them, the presenters return exactly these fields, and :mod:`api.openapi` builds the
OpenAPI document from them — one description, so the schema cannot drift from what the views do.

Roles:

- ``config``: mfagate acts on it. ``PUT`` replaces the whole object (seed 002): omitted → default.
- ``cloudflare``: a field of Cloudflare's API that mfagate does not act on. Accepted (its JSON type
  checked), stored and returned unchanged, so a Terraform plan or an SDK round trip stays clean;
  ``PUT`` replaces it like Cloudflare's own fields (omitted → gone).
- ``extension``: mfagate's own field. ``PUT`` keeps its value when the body omits it, so a client
  that only knows Cloudflare's fields cannot clear it by accident.
- ``read_only``: returned; accepted and ignored on writes (so ``GET`` → edit → ``PUT`` works).

A field neither Cloudflare nor mfagate defines is refused (1003), naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mfa_policies import constants as c

CONFIG, CLOUDFLARE, EXTENSION, READ_ONLY = "config", "cloudflare", "extension", "read_only"


@dataclass(frozen=True)
class Field:
    name: str
    schema: dict
    role: str = CONFIG
    description: str = ""
    required: bool = False  # on create/replace
    keep_when_omitted: bool = False  # a PUT that omits it leaves it as it is (extensions always)
    in_response: bool = True
    checked: bool = True  # False: a reader checks the shape itself (rules, links, ids)
    response_schema: dict | None = None  # when answers differ from what writes take

    @property
    def writable(self) -> bool:
        return self.role != READ_ONLY

    @property
    def kept(self) -> bool:
        return self.keep_when_omitted or self.role == EXTENSION


@dataclass(frozen=True)
class Shape:
    name: str
    description: str
    fields: tuple[Field, ...]
    nested: dict[str, "Shape"] = field(default_factory=dict)  # field name → the shape of its object value

    def __getitem__(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> set[str]:
        return {f.name for f in self.fields}

    def role(self, role: str) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.role == role)


# ------------------------------------------------------------------------------ JSON Schema pieces
def nullable(schema: dict) -> dict:
    """Writable fields accept ``null`` as “not given”."""
    kind = schema.get("type")
    if kind is None:
        return {"anyOf": [schema, {"type": "null"}]}
    kinds = [kind] if isinstance(kind, str) else list(kind)
    out = dict(schema, type=kinds + ["null"] if "null" not in kinds else kinds)
    if "enum" in out:
        out["enum"] = list(out["enum"]) + [None]
    return out


STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}
OBJECT = {"type": "object"}
STRINGS = {"type": "array", "items": STRING}
OBJECTS = {"type": "array", "items": OBJECT}
UUID = {"type": "string", "format": "uuid"}
DATETIME = {"type": "string", "format": "date-time"}
DURATION = {"type": "string", "maxLength": 16,
            "description": "Whole minutes or hours, 0m … 720h: 30m, 1h, 24h, 1h30m."}
KINDS = {"type": "array", "items": {"type": "string", "enum": list(c.AUTHENTICATOR_KINDS)},
         "description": "Kept in the order sent."}
NAME = {"type": "string", "maxLength": 150}

# Access rules in Cloudflare's one-key shapes, plus mfagate's roles in the same style.
RULE_SHAPES = {
    "everyone": ({"type": "object", "additionalProperties": False, "properties": {}}, None),
    "email": ({"type": "object", "required": ["email"], "additionalProperties": False,
               "properties": {"email": {"type": "string", "format": "email"}}}, "email"),
    "email_domain": ({"type": "object", "required": ["domain"], "additionalProperties": False,
                      "properties": {"domain": STRING}}, "domain"),
    "auth_method": ({"type": "object", "required": ["auth_method"], "additionalProperties": False,
                     "properties": {"auth_method": {"type": "string", "description": "An RFC 8176 amr value."}}},
                    "auth_method"),
    "login_method": ({"type": "object", "required": ["id"], "additionalProperties": False,
                      "properties": {"id": {"type": "string", "description": "A connection's key."}}}, "id"),
    "role": ({"type": "object", "required": ["key"], "additionalProperties": False,
              "properties": {"key": {"type": "string", "description": "A role's key (mfagate extension)."}}}, "key"),
}
LEGACY_RULE = {"type": "object", "required": ["selector"], "additionalProperties": False, "deprecated": True,
               "description": "mfagate's first rule shape, still accepted; answers use the one-key shapes.",
               "properties": {"selector": {"type": "string", "enum": list(c.SELECTORS)}, "value": STRING}}
RULE = {"oneOf": [{"type": "object", "required": [key], "additionalProperties": False,
                   "properties": {key: schema}, "title": f"{key} rule"}
                  for key, (schema, _) in RULE_SHAPES.items()]}
RULES = {"type": "array", "items": {"oneOf": RULE["oneOf"] + [LEGACY_RULE]}}
RULES_OUT = {"type": "array", "items": RULE}


# ------------------------------------------------------------------------------ organizations
ORGANIZATION_MFA = Shape("OrganizationMfaConfig", "The organization's independent MFA.", (
    Field("allowed_authenticators", KINDS, description="Empty: independent MFA is off."),
    Field("session_duration", DURATION, description="The authentication duration (default 24h)."),
    Field("amr_matching_enabled", BOOLEAN, description="Use identity provider MFA (seed 002)."),
    Field("amr_session_duration", DURATION, description="How long the IdP's MFA counts (default 24h)."),
    Field("amr_matching_session_duration", DURATION, in_response=False,
          description="Cloudflare's SDK and Terraform name for amr_session_duration; sending it (without "
          "amr_matching_enabled) turns AMR matching on. Returned when the last write used it."),
    Field("required_aaguids", {"type": ["string", "null"], "format": "uuid"}, checked=False,
          description="The id of an AAGUID list, or null."),
))

ORGANIZATION = Shape("Organization", "The Zero Trust organization: the account's MFA configuration.", (
    Field("name", NAME, required=True),
    Field("auth_domain", {"type": "string", "maxLength": 253}),
    Field("mfa_config", {"type": "object"}),
    Field("mfa_required_for_all_apps", BOOLEAN,
          description="Enforce MFA for this organization (“Apply global MFA settings by default”)."),
    Field("mfa_exempt_roles", STRINGS, EXTENSION, "Keys of roles exempt from the inherited requirement."),
    Field("mfa_exempt_connections", STRINGS, EXTENSION, "Keys of exempt enterprise connections."),
    Field("mfa_recovery_codes_enabled", BOOLEAN, EXTENSION,
          "Users with an authenticator may generate recovery codes (default true)."),
    Field("mfa_enrollment_grace_until", {"type": "string", "format": "date-time", "maxLength": 64}, EXTENSION,
          "Users who have not enrolled may skip enrollment until this moment (ISO 8601; without an offset it is "
          "UTC). null: no grace period by date. A new or changed date must lie in the future. With "
          "mfa_enrollment_grace_sign_ins too, the grace period ends when the first of the two runs out.",
          response_schema={"type": ["string", "null"], "format": "date-time"}),
    Field("mfa_enrollment_grace_sign_ins", {"type": "integer", "minimum": 1, "maximum": 100}, EXTENSION,
          "Users who have not enrolled may skip enrollment for this many sign-ins (1 to 100; each “Set up "
          "later” counts as one). null: no grace period by number of sign-ins.",
          response_schema={"type": ["integer", "null"], "minimum": 1, "maximum": 100}),
    Field("account_id", STRING, READ_ONLY),
    Field("created_at", DATETIME, READ_ONLY),
    Field("updated_at", DATETIME, READ_ONLY),
    # Cloudflare's organization fields (SDK 5.9.0 and the Terraform provider) that mfagate keeps as sent.
    *(Field(name, schema, CLOUDFLARE) for name, schema in (
        ("allow_authenticate_via_warp", BOOLEAN),
        ("auto_redirect_to_identity", BOOLEAN),
        ("custom_pages", OBJECT),
        ("deny_unmatched_requests", BOOLEAN),
        ("deny_unmatched_requests_exempted_zone_names", STRINGS),
        ("is_ui_read_only", BOOLEAN),
        ("login_design", OBJECT),
        ("mfa_configuration_allowed", BOOLEAN),
        ("mfa_piv_key_requirements", OBJECT),
        ("mfa_ssh_piv_key_requirements", OBJECT),
        ("service_token_inactivity", OBJECT),
        ("session_duration", STRING),
        ("strict_service_token_auth", BOOLEAN),
        ("ui_read_only_toggle_reason", STRING),
        ("user_seat_expiration_inactive_time", STRING),
        ("warp_auth_non_browser_401", BOOLEAN),
        ("warp_auth_session_duration", STRING),
    )),
), nested={"mfa_config": ORGANIZATION_MFA})


# ------------------------------------------------------------------------------ apps and policies
MFA_CONFIG = Shape("MfaConfig", "Absent or null: respect the global setting; {\"mfa_disabled\": true}: MFA off; "
                   "methods and duration: custom.", (
    Field("mfa_disabled", BOOLEAN),
    Field("allowed_authenticators", KINDS),
    Field("session_duration", DURATION),
))
MFA_CONFIG_SCHEMA = {"type": ["object", "null"]}

POLICY_LINK = {"oneOf": [
    {"type": "string", "format": "uuid", "title": "policy id"},
    {"type": "object", "required": ["id"], "title": "policy link", "additionalProperties": False,
     "properties": {"id": UUID, "precedence": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                    "name": {"type": "string", "description": "Ignored on writes."}}},
]}
POLICY_LINK_OUT = {"type": "object", "required": ["id", "name", "precedence"],
                   "properties": {"id": UUID, "name": STRING, "precedence": {"type": "integer"}}}

APPLICATION = Shape("Application", "A self-hosted application: the path prefixes of this site it covers.", (
    Field("name", NAME, required=True),
    Field("type", {"type": "string", "enum": ["self_hosted"]}, description="Only self_hosted (the default)."),
    Field("domain", {"type": "string", "maxLength": 500}, response_schema={"type": ["string", "null"]},
          description="host/path or /path: the path is the prefix this application covers on this site "
          "(the host is kept as sent; no path covers /)."),
    Field("session_duration", DURATION, description="The app session duration (default 24h)."),
    Field("mfa_config", MFA_CONFIG_SCHEMA),
    Field("policies", {"type": "array", "items": POLICY_LINK}, keep_when_omitted=True, checked=False,
          response_schema={"type": "array", "items": POLICY_LINK_OUT},
          description="Policy ids, or {\"id\", \"precedence\"} links; omitted on PUT: unchanged; [] detaches all."),
    Field("path_prefixes", STRINGS, EXTENSION,
          description="Every path prefix covered; the first is the domain's path."),
    Field("id", UUID, READ_ONLY),
    Field("aud", STRING, READ_ONLY, "The audience of the app session's JWT."),
    Field("config_version", {"type": "integer"}, READ_ONLY),
    Field("created_at", DATETIME, READ_ONLY),
    Field("updated_at", DATETIME, READ_ONLY),
    *(Field(name, schema, CLOUDFLARE) for name, schema in (
        ("allow_authenticate_via_warp", BOOLEAN),
        ("allow_iframe", BOOLEAN),
        ("allowed_idps", STRINGS),
        ("app_launcher_logo_url", STRING),
        ("app_launcher_visible", BOOLEAN),
        ("auto_redirect_to_identity", BOOLEAN),
        ("bg_color", STRING),
        ("cors_headers", OBJECT),
        ("custom_deny_message", STRING),
        ("custom_deny_url", STRING),
        ("custom_non_identity_deny_url", STRING),
        ("custom_pages", STRINGS),
        ("destinations", OBJECTS),
        ("eager_redirect_cookie_setting", BOOLEAN),
        ("enable_binding_cookie", BOOLEAN),
        ("footer_links", OBJECTS),
        ("header_bg_color", STRING),
        ("http_only_cookie_attribute", BOOLEAN),
        ("landing_page_design", OBJECT),
        ("logo_url", STRING),
        ("oauth_configuration", OBJECT),
        ("options_preflight_bypass", BOOLEAN),
        ("path_cookie_attribute", BOOLEAN),
        ("read_service_tokens_from_header", STRING),
        ("same_site_cookie_attribute", STRING),
        ("scim_config", OBJECT),
        ("self_hosted_domains", STRINGS),
        ("service_auth_401_redirect", BOOLEAN),
        ("skip_app_launcher_login_page", BOOLEAN),
        ("skip_interstitial", BOOLEAN),
        ("tags", STRINGS),
        ("target_criteria", OBJECTS),
        ("use_clientless_isolation_app_launcher_url", BOOLEAN),
    )),
), nested={"mfa_config": MFA_CONFIG})

POLICY = Shape("Policy", "A reusable access policy: a decision, rules and its own mfa_config.", (
    Field("name", NAME, required=True),
    Field("decision", {"type": "string", "enum": [c.ALLOW, c.DENY, c.BYPASS]}, description="Default allow."),
    Field("include", RULES, response_schema=RULES_OUT, required=True, checked=False, description="At least one must match."),
    Field("require", RULES, response_schema=RULES_OUT, checked=False, description="Every one must match."),
    Field("exclude", RULES, response_schema=RULES_OUT, checked=False, description="None may match."),
    Field("mfa_config", MFA_CONFIG_SCHEMA),
    Field("id", UUID, READ_ONLY),
    Field("app_count", {"type": "integer"}, READ_ONLY),
    Field("reusable", {"type": "boolean", "enum": [True]}, READ_ONLY),
    Field("created_at", DATETIME, READ_ONLY),
    Field("updated_at", DATETIME, READ_ONLY),
    *(Field(name, schema, CLOUDFLARE) for name, schema in (
        ("approval_groups", OBJECTS),
        ("approval_required", BOOLEAN),
        ("connection_rules", OBJECT),
        ("isolation_required", BOOLEAN),
        ("purpose_justification_prompt", STRING),
        ("purpose_justification_required", BOOLEAN),
        ("session_duration", STRING),
    )),
), nested={"mfa_config": MFA_CONFIG})


# ------------------------------------------------------------------------------ lists and users
ITEM = Shape("GatewayItem", "An AAGUID: 32 hexadecimal characters (dashes and case are normalised).", (
    Field("value", {"type": "string", "maxLength": 64}, required=True),
    Field("description", {"type": "string", "maxLength": 255}),
))

AAGUID_LIST = Shape("GatewayList", "A list of type AAGUID.", (
    Field("name", NAME, required=True),
    Field("description", STRING),
    Field("type", {"type": "string", "enum": ["AAGUID"]}, description="Only AAGUID (the default)."),
    Field("items", {"type": "array", "items": {"$ref": "#/components/schemas/GatewayItemInput"}}, checked=False,
          description="Kept in the order sent.",
          response_schema={"type": "array", "items": {"$ref": "#/components/schemas/GatewayItem"}}),
    Field("id", UUID, READ_ONLY),
    Field("count", {"type": "integer"}, READ_ONLY),
    Field("created_at", DATETIME, READ_ONLY),
    Field("updated_at", DATETIME, READ_ONLY),
))

LIST_PATCH = Shape("GatewayListPatch", "Append and remove items.", (
    Field("append", {"type": "array", "items": {"$ref": "#/components/schemas/GatewayItemInput"}}, checked=False),
    Field("remove", STRINGS),
))

USER = Shape("AccessUser", "A member of the account.", (
    Field("id", UUID, READ_ONLY),
    Field("email", STRING, READ_ONLY),
    Field("name", STRING, READ_ONLY),
    Field("mfa_authenticator_count", {"type": "integer"}, READ_ONLY, "mfagate extension."),
))

AUTHENTICATOR = Shape("MfaAuthenticator", "One of a user's MFA devices.", (
    Field("id", UUID, READ_ONLY),
    Field("name", STRING, READ_ONLY),
    Field("kind", {"type": "string", "enum": list(c.AUTHENTICATOR_KINDS)}, READ_ONLY),
    Field("aaguid", {"type": ["string", "null"]}, READ_ONLY),
    Field("authenticator_name", {"type": ["string", "null"]}, READ_ONLY),
    Field("created_at", DATETIME, READ_ONLY),
    Field("last_used_at", {"type": ["string", "null"], "format": "date-time"}, READ_ONLY),
))


# ------------------------------------------------------------------------------ checking a value
_TYPES = {"string": str, "boolean": bool, "object": dict, "array": list, "null": type(None)}
_WORDS = {"string": "a string", "boolean": "true or false", "object": "an object", "array": "a list",
          "integer": "a whole number", "null": "null"}


def _is(value, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, _TYPES[kind])


def describe(schema: dict) -> str:
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else [k for k in kinds or () if k != "null"]
    if kinds == ["array"] and schema.get("items", {}).get("type") in ("string", "object"):
        return {"string": "a list of strings", "object": "a list of objects"}[schema["items"]["type"]]
    return " or ".join(_WORDS[k] for k in kinds)


def check(value, schema: dict, where: str) -> list[str]:
    """What is wrong with ``value`` against the small part of JSON Schema the shapes use (type,
    enum, items, maxLength); ``[]`` when nothing is."""
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(value, kind) for kind in kinds):
            return [f"{where} must be {describe(schema)}."]
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(str(v) for v in schema["enum"] if v is not None)
        return [f"{where} must be one of {choices}; “{str(value)[:100]}” is not."]
    if isinstance(value, str) and "maxLength" in schema and len(value) > schema["maxLength"]:
        return [f"{where}: at most {schema['maxLength']} characters."]
    if isinstance(value, list) and "items" in schema:
        problems = []
        for index, item in enumerate(value):
            problems.extend(check(item, schema["items"], f"{where}[{index}]"))
        if problems and schema["items"].get("type") in ("string", "object") and len(schema["items"]) == 1:
            return [f"{where} must be {describe(schema)}."]
        return problems
    return []
