"""Plain functions between models and the API's JSON shapes (Cloudflare's, and the seed's), both ways.

Readers (``*_from_body``) check a body against its :mod:`api.shapes` shape — known fields, JSON
types — and the ids it names, then return model values; every rule about what a valid configuration
is stays in :mod:`mfa_policies.validation`, reached through the services. A reader collects every
problem it finds and raises one :class:`~api.envelope.ApiError` listing them all, before anything
is written. Presenters return what the shape describes; :class:`~api.models.StoredFields` supplies
the Cloudflare fields mfagate keeps as sent and the order lists were sent in.
"""

from __future__ import annotations

import datetime as dt
import difflib
import uuid
from dataclasses import dataclass, field

from django.utils.dateparse import parse_datetime

from enrollment.webauthn import authenticator_model_name
from mfa_policies.access.tokens import audience_for
from mfa_policies import constants as c
from mfa_policies.models import AaguidList, Connection, Policy, Role
from mfa_policies.validation import normalize_aaguid

from . import envelope
from . import shapes as sh
from .envelope import ApiError

MAX_ID = 2**31 - 1


def _iso(value):
    return value.isoformat() if value is not None else None


@dataclass
class Extras:
    """What a write hands :func:`api.services.stored_fields_save` besides the configuration."""

    fields: dict = field(default_factory=dict)
    orders: dict = field(default_factory=dict)
    aliases: dict = field(default_factory=dict)
    rename: dict = field(default_factory=dict)  # not stored: model field → the API field the body used


class Reader:
    """Collects shape errors while reading one body."""

    def __init__(self):
        self.errors: list[tuple[int, str]] = []

    def error(self, message: str, code: int = envelope.INVALID) -> None:
        self.errors.append((code, message))

    def known(self, data: dict, fields, where: str = "") -> None:
        for key in data:
            if key in fields:
                continue
            close = difflib.get_close_matches(key, sorted(fields), n=1)
            hint = f" Did you mean “{close[0]}”?" if close else ""
            self.error(f"{where}{key}: unknown field; neither Cloudflare's API nor mfagate defines it here.{hint}",
                       envelope.UNKNOWN_FIELD)

    def shape(self, data: dict, shape: sh.Shape, where: str = "") -> None:
        """Unknown fields (1003) and JSON types of the writable fields the shape checks."""
        self.known(data, shape.names, where)
        for f in shape.fields:
            value = data.get(f.name)
            if value is None or not f.writable or not f.checked:
                continue
            for problem in sh.check(value, f.schema, f"{where}{f.name}"):
                self.error(problem)

    def object(self, data: dict, name: str, where: str = "") -> dict | None:
        value = data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.error(f"{where}{name} must be an object.")
            return None
        return value

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ApiError(400, self.errors)


def passthrough(body: dict, shape: sh.Shape) -> dict:
    """The Cloudflare fields of ``body`` that mfagate keeps as sent (null: not given)."""
    return {f.name: body[f.name] for f in shape.role(sh.CLOUDFLARE) if body.get(f.name) is not None}


def in_sent_order(values, order) -> list:
    """``values`` in the order last sent, while that order still lists exactly these values."""
    values = list(values)
    if isinstance(order, list) and len(order) == len(values) and sorted(map(str, order)) == sorted(map(str, values)):
        return list(order)
    return values


def _stored(stored):
    return stored if stored is not None else Extras()


# ------------------------------------------------------------------------------ organizations
# Model field → API field, so validation's messages name what the caller sent.
ORGANIZATION_RENAME = {
    "allowed_authenticators": "mfa_config.allowed_authenticators",
    "session_duration": "mfa_config.session_duration",
    "amr_matching_enabled": "mfa_config.amr_matching_enabled",
    "amr_session_duration": "mfa_config.amr_session_duration",
    "required_aaguids": "mfa_config.required_aaguids",
    "exempt_roles": "mfa_exempt_roles",
    "exempt_connections": "mfa_exempt_connections",
    "recovery_codes_enabled": "mfa_recovery_codes_enabled",
    "enrollment_grace_until": "mfa_enrollment_grace_until",
    "enrollment_grace_sign_ins": "mfa_enrollment_grace_sign_ins",
}
ALIAS_AMR = "amr_matching_session_duration"


def organization(org, stored=None, *, exempt_roles=None, exempt_connections=None) -> dict:
    stored = _stored(stored)
    roles = exempt_roles if exempt_roles is not None else sorted(org.exempt_roles.values_list("key", flat=True))
    connections = (exempt_connections if exempt_connections is not None
                   else sorted(org.exempt_connections.values_list("key", flat=True)))
    mfa = {
        "allowed_authenticators": in_sent_order(org.allowed_authenticators,
                                                stored.orders.get("mfa_config.allowed_authenticators")),
        "session_duration": org.session_duration,
        "amr_matching_enabled": org.amr_matching_enabled,
        "amr_session_duration": org.amr_session_duration,
        "required_aaguids": str(org.required_aaguids_id) if org.required_aaguids_id else None,
    }
    if stored.aliases.get(ALIAS_AMR):
        mfa[ALIAS_AMR] = org.amr_session_duration
    return {
        "account_id": org.account_id,
        "name": org.name,
        "auth_domain": org.auth_domain,
        "mfa_config": mfa,
        "mfa_required_for_all_apps": org.mfa_required_for_all_apps,
        "mfa_exempt_roles": in_sent_order(roles, stored.orders.get("mfa_exempt_roles")),
        "mfa_exempt_connections": in_sent_order(connections, stored.orders.get("mfa_exempt_connections")),
        "mfa_recovery_codes_enabled": org.recovery_codes_enabled,
        "mfa_enrollment_grace_until": _iso(org.enrollment_grace_until),
        "mfa_enrollment_grace_sign_ins": org.enrollment_grace_sign_ins,
        "created_at": _iso(org.created_at),
        "updated_at": _iso(org.updated_at),
        **stored.fields,
    }


def _keys(reader: Reader, data: dict, name: str, model) -> list | None:
    """The objects named by key in ``data[name]``; ``None`` when it is omitted."""
    keys = data.get(name)
    if keys is None or not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        return None  # omitted; a wrong type is already an error of the shape
    found = {obj.key: obj for obj in model.objects.filter(key__in=keys)}
    for key in keys:
        if key not in found:
            reader.error(f"{name}: there is no {model._meta.verbose_name} with key “{key[:100]}”.")
    return [found[k] for k in dict.fromkeys(keys) if k in found]


def _grace_until(r: Reader, value):
    """An ISO 8601 date and time (UTC when it has no offset); ``None`` for null."""
    if value is None or not isinstance(value, str) or len(value) > sh.ORGANIZATION["mfa_enrollment_grace_until"].schema["maxLength"]:
        return None  # null: none; another type or a longer text is already an error of the shape
    try:
        parsed = parse_datetime(value.strip())
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None:
        r.error(f"mfa_enrollment_grace_until: “{value[:64]}” is not a date and time; send ISO 8601 such as "
                "2026-12-31T23:59:00Z, or null for no grace period by date.")
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.timezone.utc)


def organization_from_body(body: dict, org, stored=None) -> tuple[dict, dict, Extras]:
    """The whole organization (``PUT`` replaces Cloudflare's and the seed's fields: an omitted one
    takes its default; mfagate's exempt roles and connections stay when omitted). Returns the model
    fields to set, the many-to-many sets to write, and the extras to store."""
    stored = _stored(stored)
    r = Reader()
    r.shape(body, sh.ORGANIZATION)
    mfa = r.object(body, "mfa_config") or {}
    r.shape(mfa, sh.ORGANIZATION_MFA, "mfa_config.")
    allowed = mfa.get("allowed_authenticators")
    amr, alias = mfa.get("amr_session_duration"), mfa.get(ALIAS_AMR)
    if amr is not None and alias is not None and amr != alias:
        r.error(f"mfa_config.{ALIAS_AMR}: the SDK's name for mfa_config.amr_session_duration, sent with another "
                "value; send one of them.")
    amr_enabled = mfa.get("amr_matching_enabled")
    fields = {
        "name": body.get("name") if isinstance(body.get("name"), str) else "",
        "auth_domain": body.get("auth_domain") or "",
        "mfa_required_for_all_apps": bool(body.get("mfa_required_for_all_apps")),
        # Shapes of methods and durations are validation's to judge too (its messages name them).
        "allowed_authenticators": [] if allowed is None else allowed,
        "session_duration": c.DEFAULT_DURATION if mfa.get("session_duration") is None else mfa["session_duration"],
        # Cloudflare's clients know only the duration: sending it is asking for AMR matching.
        "amr_matching_enabled": bool(amr_enabled) if amr_enabled is not None else alias is not None,
        "amr_session_duration": c.DEFAULT_DURATION if amr is None and alias is None else (amr if amr is not None
                                                                                          else alias),
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
    # mfagate's grace period and recovery switch: omitted → kept; for the grace period null → none.
    if body.get("mfa_recovery_codes_enabled") is not None:
        fields["recovery_codes_enabled"] = body["mfa_recovery_codes_enabled"] is True
    if "mfa_enrollment_grace_until" in body:
        fields["enrollment_grace_until"] = _grace_until(r, body["mfa_enrollment_grace_until"])
    if "mfa_enrollment_grace_sign_ins" in body:
        # Its range is validation's to judge (its message says what is accepted).
        count = body["mfa_enrollment_grace_sign_ins"]
        fields["enrollment_grace_sign_ins"] = count if isinstance(count, int) and not isinstance(count, bool) else None
    m2m = {}
    for name, model_field, model in (("mfa_exempt_roles", "exempt_roles", Role),
                                     ("mfa_exempt_connections", "exempt_connections", Connection)):
        objects = _keys(r, body, name, model)
        if objects is not None:
            m2m[model_field] = objects
    r.raise_if_errors()
    orders = dict(stored.orders)
    orders["mfa_config.allowed_authenticators"] = list(allowed) if isinstance(allowed, list) else []
    for name in ("mfa_exempt_roles", "mfa_exempt_connections"):
        if body.get(name) is not None:
            orders[name] = list(dict.fromkeys(body[name]))
    aliases = {ALIAS_AMR: True} if alias is not None else {}
    return fields, m2m, Extras(fields=passthrough(body, sh.ORGANIZATION), orders=orders, aliases=aliases)


# ------------------------------------------------------------------------------ AAGUID lists
def aaguid_item(item) -> dict:
    return {"value": item.value, "description": item.description}


def ordered_items(items, stored=None) -> list:
    """Items in the order last sent; items the API never saw (added in the admin) after, by value."""
    order = {value: index for index, value in enumerate(_stored(stored).orders.get("items") or [])}
    return sorted(items, key=lambda item: (order.get(item.value, len(order)), item.value))


def aaguid_list(obj, stored=None, *, items=None) -> dict:
    items = ordered_items(obj.items.all() if items is None else items, stored)
    return {"id": str(obj.id), "name": obj.name, "description": obj.description, "type": AaguidList.LIST_TYPE,
            "count": len(items), "items": [aaguid_item(item) for item in items], "created_at": _iso(obj.created_at),
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
        r.known(item, sh.ITEM.names, f"{here}.")
        value = item.get("value")
        if not isinstance(value, str):
            r.error(f"{here}.value must be an AAGUID string such as 8c39ee867f9a4a959ba3f6b097e5c2ee.")
            continue
        description = item.get("description")
        if description is None:
            description = ""
        elif not isinstance(description, str):
            r.error(f"{here}.description must be a string.")
            continue
        if len(description) > 255:
            r.error(f"{here}.description: at most 255 characters.")
        items.append((value, description))
    return items


def _item_order(items) -> list[str]:
    order = []
    for value, _ in items:
        try:
            order.append(normalize_aaguid(value))
        except ValueError:
            pass  # the service names malformed values
    return list(dict.fromkeys(order))


def aaguid_list_from_body(body: dict) -> tuple[dict, list[tuple], Extras]:
    """A whole list (``POST``/``PUT``): name, description, type AAGUID, items."""
    r = Reader()
    r.shape(body, sh.AAGUID_LIST)
    fields = {"name": body.get("name") if isinstance(body.get("name"), str) else "",
              "description": body.get("description") or ""}
    items = _items(r, body.get("items"), "items")
    r.raise_if_errors()
    return fields, items, Extras(orders={"items": _item_order(items)})


def aaguid_list_patch_from_body(body: dict, obj, stored=None) -> tuple[list[tuple], Extras]:
    """``{"append": [items], "remove": [values]}`` applied to ``obj``'s items, in their order."""
    r = Reader()
    r.shape(body, sh.LIST_PATCH)
    append = _items(r, body.get("append"), "append")
    remove = body.get("remove") if isinstance(body.get("remove"), list) else []
    current = {item.value: item.description for item in ordered_items(obj.items.all(), stored)}
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
    items = list(current.items()) + append
    return items, Extras(orders={"items": _item_order(items)})


# ------------------------------------------------------------------------------ users
def user(member, authenticator_count: int) -> dict:
    return {"id": str(member.id), "email": member.email, "name": member.name,
            "mfa_authenticator_count": authenticator_count}


def authenticator(obj) -> dict:
    return {"id": str(obj.id), "name": obj.name, "kind": obj.kind,
            "aaguid": obj.aaguid or None,
            "authenticator_name": (authenticator_model_name(obj.aaguid) or None) if obj.aaguid else None,
            "created_at": _iso(obj.created_at), "last_used_at": _iso(obj.last_used_at)}


# ------------------------------------------------------------------------------ apps and policies
MFA_CONFIG_RENAME = {"mfa_mode": "mfa_config", "mfa_allowed_authenticators": "mfa_config.allowed_authenticators",
                     "mfa_session_duration": "mfa_config.session_duration"}


def mfa_config(obj, stored=None) -> dict | None:
    """``null`` respects the global setting (mode inherit)."""
    if obj.mfa_mode == c.MODE_DISABLED:
        return {"mfa_disabled": True}
    if obj.mfa_mode == c.MODE_CUSTOM:
        return {"mfa_disabled": False,
                "allowed_authenticators": in_sent_order(obj.mfa_allowed_authenticators,
                                                        _stored(stored).orders.get("mfa_config.allowed_authenticators")),
                "session_duration": obj.mfa_session_duration}
    return None


def _mfa_config_from_body(r: Reader, body: dict, orders: dict) -> dict:
    """Absent or null → inherit; ``mfa_disabled: true`` → disabled; methods and/or duration →
    custom (validation then insists on both); ``{"mfa_disabled": false}`` alone → inherit."""
    raw = body.get("mfa_config")
    inherit = {"mfa_mode": c.MODE_INHERIT, "mfa_allowed_authenticators": [], "mfa_session_duration": ""}
    if raw is None:
        return inherit
    if not isinstance(raw, dict):
        r.error("mfa_config must be an object or null.")
        return inherit
    r.shape(raw, sh.MFA_CONFIG, "mfa_config.")
    disabled = raw.get("mfa_disabled") is True
    allowed, duration = raw.get("allowed_authenticators"), raw.get("session_duration")
    custom = allowed is not None or duration is not None
    if disabled:
        if custom:
            r.error("mfa_config: mfa_disabled cannot be combined with allowed_authenticators or session_duration.")
        return {"mfa_mode": c.MODE_DISABLED, "mfa_allowed_authenticators": [], "mfa_session_duration": ""}
    if not custom:
        return inherit
    if isinstance(allowed, list):
        orders["mfa_config.allowed_authenticators"] = list(allowed)
    return {"mfa_mode": c.MODE_CUSTOM, "mfa_allowed_authenticators": [] if allowed is None else allowed,
            "mfa_session_duration": "" if duration is None else duration}


APP_RENAME = MFA_CONFIG_RENAME
POLICY_RENAME = MFA_CONFIG_RENAME


def domain_path(domain: str) -> str:
    """``host/path`` or ``/path`` → the path prefix it covers here; a bare host covers ``/``."""
    if domain.startswith("/"):
        return domain
    _, slash, path = domain.partition("/")
    return "/" + path if slash else "/"


def _domain_errors(domain: str) -> list[str]:
    if "://" in domain:
        return ["domain: give host/path or /path, without a scheme (e.g. app.example.com/payroll)."]
    if "*" in domain_path(domain):
        return ["domain: wildcard paths are not supported; the path is a prefix already."]
    return []


def application(app, stored=None, *, links=None) -> dict:
    """``links``: the app's attached policies as ``(public_id, name, precedence)``, precedence order."""
    stored = _stored(stored)
    if links is None:
        links = [(link.policy.public_id, link.policy.name, link.precedence)
                 for link in app.app_policies.select_related("policy").order_by("precedence")]
    order = {pid: index for index, pid in enumerate(stored.orders.get("policies") or [])}
    sent = [str(pid) for pid, _, _ in links]
    if sorted(sent) == sorted(order):
        links = sorted(links, key=lambda link: order[str(link[0])])
    prefixes = list(app.path_prefixes or [])
    domain = stored.fields.get("domain")
    if not prefixes:
        domain = None
    elif not isinstance(domain, str) or domain_path(domain) != prefixes[0]:
        domain = prefixes[0]
    return {
        "id": str(app.public_id), "type": "self_hosted", "name": app.name, "domain": domain,
        "path_prefixes": prefixes, "session_duration": app.session_duration,
        "policies": [{"id": str(pid), "name": name, "precedence": precedence} for pid, name, precedence in links],
        "mfa_config": mfa_config(app, stored), "aud": audience_for(app.pk),
        "config_version": app.config_version, "created_at": _iso(app.created_at), "updated_at": _iso(app.updated_at),
        **{k: v for k, v in stored.fields.items() if k != "domain"},
    }


def _policy_links(r: Reader, raw, org) -> list[tuple] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        r.error("policies must be a list of policy ids or {\"id\", \"precedence\"} objects.")
        return None
    wanted = {}
    for index, item in enumerate(raw):
        here = f"policies[{index}]"
        if isinstance(item, str):
            item = {"id": item}
        if not isinstance(item, dict):
            r.error(f"{here} must be a policy id or an object with “id” and “precedence”.")
            continue
        inline = sorted(set(item) & (sh.POLICY.names - {"id", "name"}))
        if inline:
            r.error(f"{here}.{inline[0]}: policies are linked by id here; create the policy at access/policies "
                    "(or access/apps/<app_id>/policies) and link it.")
            continue
        r.known(item, {"id", "precedence", "name"}, f"{here}.")
        policy_id, precedence = item.get("id"), item.get("precedence", index + 1)
        try:
            public_id = uuid.UUID(policy_id) if isinstance(policy_id, str) else None
        except ValueError:
            public_id = None
        if public_id is None:
            r.error(f"{here}.id must be the id (a UUID) of a policy.")
            continue
        if type(precedence) is not int or not 0 < precedence <= MAX_ID:
            r.error(f"{here}.precedence must be a whole number from 1 to {MAX_ID}.")
            continue
        wanted[index] = (public_id, precedence)
    policies = {p.public_id: p for p in Policy.objects.filter(
        organization=org, public_id__in=[pid for pid, _ in wanted.values()])}
    attached = []
    for index, (public_id, precedence) in wanted.items():
        if public_id not in policies:
            r.error(f"policies[{index}].id: there is no policy with id {public_id} in this account.")
        else:
            attached.append((policies[public_id], precedence))
    return attached


def application_from_body(body: dict, org, app=None, stored=None) -> tuple[dict, list[tuple] | None, Extras]:
    """The whole application (``POST``/``PUT``). ``policies`` replaces the attached policies when
    given (omitted: they stay); ``path_prefixes`` (mfagate's) stays when omitted, its first entry
    following ``domain``."""
    stored = _stored(stored)
    r = Reader()
    r.shape(body, sh.APPLICATION)
    orders = {}
    old = list(app.path_prefixes or []) if app is not None else []
    domain, prefixes = body.get("domain"), body.get("path_prefixes")
    kept = dict(passthrough(body, sh.APPLICATION))
    if isinstance(domain, str):
        problems = _domain_errors(domain)
        for problem in problems:
            r.error(problem)
        path = domain_path(domain)
        if isinstance(prefixes, list):
            if not prefixes or prefixes[0] != path:
                r.error(f"path_prefixes: the first prefix is the domain's path, “{path[:100]}”; start the list with "
                        "it, or omit path_prefixes.")
            covered = prefixes
        else:
            covered = [path] + [p for p in old[1:] if p != path]
        kept["domain"] = domain
    elif prefixes is not None:
        covered = prefixes  # validation judges its shape
        if isinstance(stored.fields.get("domain"), str) and prefixes and \
                domain_path(stored.fields["domain"]) == prefixes[0]:
            kept["domain"] = stored.fields["domain"]
    else:
        covered = old  # neither given: what the application covers stays
        if "domain" in stored.fields:
            kept["domain"] = stored.fields["domain"]
    fields = {
        "name": body.get("name") if isinstance(body.get("name"), str) else "",
        "path_prefixes": covered,
        "session_duration": (c.DEFAULT_DURATION if body.get("session_duration") is None
                             else body["session_duration"]),
        **_mfa_config_from_body(r, body, orders),
    }
    attached = _policy_links(r, body.get("policies"), org)
    r.raise_if_errors()
    if attached is not None:
        orders["policies"] = [str(policy.public_id) for policy, _ in attached]
    elif "policies" in stored.orders:
        orders["policies"] = stored.orders["policies"]
    # Validation speaks of path_prefixes; a body that gave only domain hears of domain.
    rename = {"path_prefixes": "domain"} if isinstance(domain, str) and prefixes is None else {}
    return fields, attached, Extras(fields=kept, orders=orders, rename=rename)


# Cloudflare's one-key rules ⇄ the stored {"selector", "value"} rules.
_RULE_TO_SELECTOR = {"everyone": c.SELECTOR_EVERYONE, "email": c.SELECTOR_EMAIL,
                     "email_domain": c.SELECTOR_EMAIL_DOMAIN, "auth_method": c.SELECTOR_AUTH_METHOD,
                     "login_method": c.SELECTOR_CONNECTION, "role": c.SELECTOR_ROLE}
_SELECTOR_TO_RULE = {selector: key for key, selector in _RULE_TO_SELECTOR.items()}


def rule(stored_rule: dict) -> dict:
    key = _SELECTOR_TO_RULE[stored_rule["selector"]]
    inner = sh.RULE_SHAPES[key][1]
    return {key: {} if inner is None else {inner: stored_rule.get("value", "")}}


def rules(stored_rules) -> list[dict]:
    return [rule(item) for item in stored_rules or []]


def _rules_from_body(r: Reader, body: dict, name: str):
    """Cloudflare's one-key rules (and the old ``{"selector", "value"}`` ones) → stored rules.
    Values are validation's to judge; a malformed list is handed on for it to name."""
    raw = body.get(name)
    if raw is None:
        return []
    if not isinstance(raw, list):
        return raw
    out = []
    for index, item in enumerate(raw):
        here = f"{name}[{index}]"
        if isinstance(item, dict) and "selector" in item:
            out.append(item)  # the old shape: validation judges it
            continue
        if not isinstance(item, dict) or len(item) != 1:
            r.error(f"{here} must be an object with one key naming the rule, e.g. {{\"email\": {{\"email\": "
                    "\"a@example.com\"}}.")
            continue
        (key, inner), = item.items()
        if key not in sh.RULE_SHAPES:
            r.error(f"{here}: “{key[:60]}” rules are not supported; use one of {', '.join(sh.RULE_SHAPES)}.")
            continue
        value_key = sh.RULE_SHAPES[key][1]
        expected = set() if value_key is None else {value_key}
        if not isinstance(inner, dict) or set(inner) != expected:
            shown = "{}" if value_key is None else f"{{\"{value_key}\": \"…\"}}"
            r.error(f"{here}.{key} must be {shown}.")
            continue
        value = "" if value_key is None else inner[value_key]
        if not isinstance(value, str):
            r.error(f"{here}.{key}.{value_key} must be a string.")
            continue
        out.append({"selector": _RULE_TO_SELECTOR[key], "value": value})
    return out


def policy(obj, stored=None, *, app_count=None) -> dict:
    stored = _stored(stored)
    return {"id": str(obj.public_id), "name": obj.name, "decision": obj.decision, "include": rules(obj.include),
            "require": rules(obj.require), "exclude": rules(obj.exclude), "mfa_config": mfa_config(obj, stored),
            "app_count": obj.app_policies.count() if app_count is None else app_count, "reusable": True,
            "created_at": _iso(obj.created_at), "updated_at": _iso(obj.updated_at), **stored.fields}


def policy_from_body(body: dict) -> tuple[dict, Extras]:
    r = Reader()
    r.shape(body, sh.POLICY)
    orders = {}
    fields = {
        "name": body.get("name") if isinstance(body.get("name"), str) else "",
        "decision": body.get("decision") if isinstance(body.get("decision"), str) else c.ALLOW,
        "include": _rules_from_body(r, body, "include"),
        "require": _rules_from_body(r, body, "require"),
        "exclude": _rules_from_body(r, body, "exclude"),
        **_mfa_config_from_body(r, body, orders),
    }
    r.raise_if_errors()
    return fields, Extras(fields=passthrough(body, sh.POLICY), orders=orders)
