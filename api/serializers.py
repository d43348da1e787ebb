"""Plain functions between models and the seed's JSON shapes, both ways.

Readers (``*_from_body``) check the *shape* of a body — known fields, JSON types, ids that exist in
this account — and return model values; every rule about what a valid configuration is stays in
:mod:`mfa_policies.validation`, reached through the services. A reader collects every problem it
finds and raises one :class:`~api.envelope.ApiError` listing them all, before anything is written.
"""

from __future__ import annotations

import uuid

from enrollment.webauthn import authenticator_model_name
from mfa_policies import constants as c
from mfa_policies.models import AaguidList, Connection, Policy, Role
from mfa_policies.validation import normalize_aaguid

from . import envelope
from .envelope import ApiError

MAX_ID = 2**31 - 1


def _iso(value):
    return value.isoformat() if value is not None else None


class Reader:
    """Collects shape errors while reading one body."""

    def __init__(self):
        self.errors: list[tuple[int, str]] = []

    def error(self, message: str, code: int = envelope.INVALID) -> None:
        self.errors.append((code, message))

    def known(self, data: dict, fields, where: str = "") -> None:
        self.errors.extend(envelope.reject_unknown(data, fields, where))

    def string(self, data: dict, field: str, default: str = "", where: str = "") -> str:
        value = data.get(field)
        if value is None:
            return default
        if not isinstance(value, str):
            self.error(f"{where}{field} must be a string.")
            return default
        return value

    def boolean(self, data: dict, field: str, where: str = "") -> bool:
        value = data.get(field)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.error(f"{where}{field} must be true or false.")
            return False
        return value

    def object(self, data: dict, field: str) -> dict:
        value = data.get(field)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(f"{field} must be an object.")
            return {}
        return value

    def string_list(self, data: dict, field: str, where: str = "") -> list[str]:
        value = data.get(field)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(f"{where}{field} must be a list of strings.")
            return []
        return value

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ApiError(400, self.errors)


# ------------------------------------------------------------------------------ organizations
ORGANIZATION_FIELDS = {"name", "auth_domain", "mfa_config", "mfa_required_for_all_apps",
                       "mfa_exempt_roles", "mfa_exempt_connections"}
ORGANIZATION_READ_ONLY = {"account_id", "created_at", "updated_at"}
ORGANIZATION_MFA_FIELDS = {"allowed_authenticators", "session_duration", "amr_matching_enabled",
                           "amr_session_duration", "required_aaguids"}
# Model field → API field, so validation's messages name what the caller sent.
ORGANIZATION_RENAME = {
    "allowed_authenticators": "mfa_config.allowed_authenticators",
    "session_duration": "mfa_config.session_duration",
    "amr_matching_enabled": "mfa_config.amr_matching_enabled",
    "amr_session_duration": "mfa_config.amr_session_duration",
    "required_aaguids": "mfa_config.required_aaguids",
    "exempt_roles": "mfa_exempt_roles",
    "exempt_connections": "mfa_exempt_connections",
}


def organization(org) -> dict:
    return {
        "account_id": org.account_id,
        "name": org.name,
        "auth_domain": org.auth_domain,
        "mfa_config": {
            "allowed_authenticators": list(org.allowed_authenticators),
            "session_duration": org.session_duration,
            "amr_matching_enabled": org.amr_matching_enabled,
            "amr_session_duration": org.amr_session_duration,
            "required_aaguids": str(org.required_aaguids_id) if org.required_aaguids_id else None,
        },
        "mfa_required_for_all_apps": org.mfa_required_for_all_apps,
        "mfa_exempt_roles": sorted(org.exempt_roles.values_list("key", flat=True)),
        "mfa_exempt_connections": sorted(org.exempt_connections.values_list("key", flat=True)),
        "created_at": _iso(org.created_at),
        "updated_at": _iso(org.updated_at),
    }


def _keys(reader: Reader, data: dict, field: str, model) -> list:
    keys = reader.string_list(data, field)
    found = {obj.key: obj for obj in model.objects.filter(key__in=keys)}
    for key in keys:
        if key not in found:
            reader.error(f"{field}: there is no {model._meta.verbose_name} with key “{key[:100]}”.")
    return [found[k] for k in dict.fromkeys(keys) if k in found]


def organization_from_body(body: dict, org) -> tuple[dict, dict]:
    """The whole organization object (``PUT`` replaces it: an omitted field takes its default).
    Returns the model fields to set and the many-to-many sets."""
    r = Reader()
    r.known(body, ORGANIZATION_FIELDS | ORGANIZATION_READ_ONLY)
    mfa = r.object(body, "mfa_config")
    r.known(mfa, ORGANIZATION_MFA_FIELDS, "mfa_config.")
    allowed = mfa.get("allowed_authenticators")
    fields = {
        "name": r.string(body, "name"),
        "auth_domain": r.string(body, "auth_domain"),
        "mfa_required_for_all_apps": r.boolean(body, "mfa_required_for_all_apps"),
        # Shapes of methods and durations are validation's to judge (its messages name them).
        "allowed_authenticators": [] if allowed is None else allowed,
        "session_duration": c.DEFAULT_DURATION if mfa.get("session_duration") is None else mfa["session_duration"],
        "amr_matching_enabled": r.boolean(mfa, "amr_matching_enabled", "mfa_config."),
        "amr_session_duration": (c.DEFAULT_DURATION if mfa.get("amr_session_duration") is None
                                 else mfa["amr_session_duration"]),
        "required_aaguids": None,
    }
    list_id = mfa.get("required_aaguids")
    if list_id is not None:
        try:
            fields["required_aaguids"] = AaguidList.objects.get(pk=uuid.UUID(list_id), organization=org)
        except (ValueError, TypeError, AttributeError):
            r.error("mfa_config.required_aaguids must be the id (a UUID) of an AAGUID list, or null.")
        except AaguidList.DoesNotExist:
            r.error(f"mfa_config.required_aaguids: there is no AAGUID list with id {list_id} in this account.")
    m2m = {"exempt_roles": _keys(r, body, "mfa_exempt_roles", Role),
           "exempt_connections": _keys(r, body, "mfa_exempt_connections", Connection)}
    r.raise_if_errors()
    return fields, m2m


# ------------------------------------------------------------------------------ AAGUID lists
LIST_FIELDS = {"name", "description", "type", "items"}
LIST_READ_ONLY = {"id", "count", "created_at", "updated_at"}
ITEM_FIELDS = {"value", "description"}


def aaguid_list(obj) -> dict:
    items = [{"value": item.value, "description": item.description} for item in obj.items.all()]
    return {"id": str(obj.id), "name": obj.name, "description": obj.description, "type": AaguidList.LIST_TYPE,
            "count": len(items), "items": items, "created_at": _iso(obj.created_at),
            "updated_at": _iso(obj.updated_at)}


def _items(r: Reader, raw, where: str) -> list[tuple]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        r.error(f"{where} must be a list of {{\"value\", \"description\"}} objects.")
        return []
    items = []
    for index, item in enumerate(raw):
        here = f"{where}[{index}]"
        if not isinstance(item, dict):
            r.error(f"{here} must be an object with “value” and an optional “description”.")
            continue
        r.known(item, ITEM_FIELDS, f"{here}.")
        value = item.get("value")
        if not isinstance(value, str):
            r.error(f"{here}.value must be an AAGUID string such as 8c39ee867f9a4a959ba3f6b097e5c2ee.")
            continue
        description = r.string(item, "description", where=f"{here}.")
        if len(description) > 255:
            r.error(f"{here}.description: at most 255 characters.")
        items.append((value, description))
    return items


def aaguid_list_from_body(body: dict) -> tuple[dict, list[tuple]]:
    """A whole list (``POST``/``PUT``): name, description, type AAGUID, items."""
    r = Reader()
    r.known(body, LIST_FIELDS | LIST_READ_ONLY)
    list_type = body.get("type", AaguidList.LIST_TYPE)
    if list_type != AaguidList.LIST_TYPE:
        r.error(f"type: only lists of type {AaguidList.LIST_TYPE} are supported.")
    fields = {"name": r.string(body, "name"), "description": r.string(body, "description")}
    items = _items(r, body.get("items"), "items")
    r.raise_if_errors()
    return fields, items


def aaguid_list_patch_from_body(body: dict, obj) -> list[tuple]:
    """``{"append": [items], "remove": [values]}`` applied to ``obj``'s items."""

    r = Reader()
    r.known(body, {"append", "remove"})
    append = _items(r, body.get("append"), "append")
    remove = r.string_list(body, "remove")
    current = {item.value: item.description for item in obj.items.all()}
    for index, value in enumerate(remove):
        try:
            normalized = normalize_aaguid(value)
        except ValueError as exc:
            r.error(f"remove[{index}]: {exc}")
            continue
        if normalized not in current:
            r.error(f"remove[{index}]: {normalized} is not in this list.")
        current.pop(normalized, None)
    for index, (value, _) in enumerate(append):
        try:
            if normalize_aaguid(value) in current:
                r.error(f"append[{index}]: {normalize_aaguid(value)} is already in this list.")
        except ValueError:
            pass  # the service names malformed values
    r.raise_if_errors()
    return list(current.items()) + append


# ------------------------------------------------------------------------------ users
def user(member) -> dict:
    return {"id": str(member.id), "email": member.email, "name": member.name,
            "mfa_authenticator_count": member.mfa_authenticator_count}


def authenticator(obj) -> dict:
    return {"id": str(obj.id), "name": obj.name, "kind": obj.kind,
            "aaguid": obj.aaguid or None,
            "authenticator_name": (authenticator_model_name(obj.aaguid) or None) if obj.aaguid else None,
            "created_at": _iso(obj.created_at), "last_used_at": _iso(obj.last_used_at)}


# ------------------------------------------------------------------------------ apps and policies
MFA_CONFIG_FIELDS = {"mfa_disabled", "allowed_authenticators", "session_duration"}
MFA_CONFIG_RENAME = {"mfa_mode": "mfa_config", "mfa_allowed_authenticators": "mfa_config.allowed_authenticators",
                     "mfa_session_duration": "mfa_config.session_duration"}


def mfa_config(obj) -> dict | None:
    """``null`` respects the global setting (mode inherit)."""
    if obj.mfa_mode == c.MODE_DISABLED:
        return {"mfa_disabled": True}
    if obj.mfa_mode == c.MODE_CUSTOM:
        return {"mfa_disabled": False, "allowed_authenticators": list(obj.mfa_allowed_authenticators),
                "session_duration": obj.mfa_session_duration}
    return None


def _mfa_config_from_body(r: Reader, body: dict) -> dict:
    """Absent or null → inherit; ``mfa_disabled: true`` → disabled; methods and/or duration →
    custom (validation then insists on both); ``{"mfa_disabled": false}`` alone → inherit."""
    raw = body.get("mfa_config")
    inherit = {"mfa_mode": c.MODE_INHERIT, "mfa_allowed_authenticators": [], "mfa_session_duration": ""}
    if raw is None:
        return inherit
    if not isinstance(raw, dict):
        r.error("mfa_config must be an object or null.")
        return inherit
    r.known(raw, MFA_CONFIG_FIELDS, "mfa_config.")
    disabled = r.boolean(raw, "mfa_disabled", "mfa_config.")
    custom = "allowed_authenticators" in raw or "session_duration" in raw
    if disabled:
        if custom:
            r.error("mfa_config: mfa_disabled cannot be combined with allowed_authenticators or session_duration.")
        return {"mfa_mode": c.MODE_DISABLED, "mfa_allowed_authenticators": [], "mfa_session_duration": ""}
    if not custom:
        return inherit
    allowed = raw.get("allowed_authenticators")
    duration = raw.get("session_duration")
    return {"mfa_mode": c.MODE_CUSTOM, "mfa_allowed_authenticators": [] if allowed is None else allowed,
            "mfa_session_duration": "" if duration is None else duration}


APP_FIELDS = {"name", "path_prefixes", "session_duration", "policies", "mfa_config"}
APP_READ_ONLY = {"id", "config_version", "created_at", "updated_at"}
APP_RENAME = MFA_CONFIG_RENAME


def application(app) -> dict:
    return {
        "id": app.id, "name": app.name, "path_prefixes": list(app.path_prefixes),
        "session_duration": app.session_duration,
        "policies": [{"id": link.policy_id, "name": link.policy.name, "precedence": link.precedence}
                     for link in app.app_policies.select_related("policy").order_by("precedence")],
        "mfa_config": mfa_config(app), "config_version": app.config_version,
        "created_at": _iso(app.created_at), "updated_at": _iso(app.updated_at),
    }


def application_from_body(body: dict, org) -> tuple[dict, list[tuple]]:
    """The whole application (``POST``/``PUT``); ``policies`` replaces the attached policies."""
    r = Reader()
    r.known(body, APP_FIELDS | APP_READ_ONLY)
    prefixes = body.get("path_prefixes")
    fields = {
        "name": r.string(body, "name"),
        "path_prefixes": [] if prefixes is None else prefixes,  # validation judges the shape
        "session_duration": (c.DEFAULT_DURATION if body.get("session_duration") is None
                             else body["session_duration"]),
        **_mfa_config_from_body(r, body),
    }
    attached = []
    raw = body.get("policies")
    if raw is not None and not isinstance(raw, list):
        r.error("policies must be a list of {\"id\", \"precedence\"} objects.")
        raw = []
    wanted = {}
    for index, item in enumerate(raw or []):
        here = f"policies[{index}]"
        if not isinstance(item, dict):
            r.error(f"{here} must be an object with “id” and “precedence”.")
            continue
        r.known(item, {"id", "precedence", "name"}, f"{here}.")
        policy_id, precedence = item.get("id"), item.get("precedence")
        if type(policy_id) is not int or not 0 < policy_id <= MAX_ID:
            r.error(f"{here}.id must be the numeric id of a policy.")
            continue
        if type(precedence) is not int or not 0 < precedence <= MAX_ID:
            r.error(f"{here}.precedence must be a whole number from 1 to {MAX_ID}.")
            continue
        wanted[index] = (policy_id, precedence)
    policies = Policy.objects.filter(organization=org, pk__in=[pid for pid, _ in wanted.values()]).in_bulk()
    for index, (policy_id, precedence) in wanted.items():
        if policy_id not in policies:
            r.error(f"policies[{index}].id: there is no policy with id {policy_id} in this account.")
        else:
            attached.append((policies[policy_id], precedence))
    r.raise_if_errors()
    return fields, attached


POLICY_FIELDS = {"name", "decision", "include", "require", "exclude", "mfa_config"}
POLICY_READ_ONLY = {"id", "created_at", "updated_at"}
POLICY_RENAME = MFA_CONFIG_RENAME


def policy(obj) -> dict:
    return {"id": obj.id, "name": obj.name, "decision": obj.decision, "include": obj.include,
            "require": obj.require, "exclude": obj.exclude, "mfa_config": mfa_config(obj),
            "created_at": _iso(obj.created_at), "updated_at": _iso(obj.updated_at)}


def policy_from_body(body: dict) -> dict:
    r = Reader()
    r.known(body, POLICY_FIELDS | POLICY_READ_ONLY)
    fields = {
        "name": r.string(body, "name"),
        "decision": r.string(body, "decision", default=c.ALLOW),
        # Rules are validation's to judge (rule_errors names each one).
        "include": [] if body.get("include") is None else body["include"],
        "require": [] if body.get("require") is None else body["require"],
        "exclude": [] if body.get("exclude") is None else body["exclude"],
        **_mfa_config_from_body(r, body),
    }
    r.raise_if_errors()
    return fields
