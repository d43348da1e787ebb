"""Every rule about what a valid MFA configuration is, in one place.

Each ``*_errors`` function returns ``{field: [message, ...]}`` (empty when valid), with messages
(worded in :mod:`.messages`) that say what is wrong and what to do without naming the field: the
admin shows them next to it, the API names it in front. A refusal of one entry inside a field's
value (a rule) is a :class:`Placed` message, which also says exactly where. Models call these
from ``clean()``; admin forms and the API reuse them, so a rule is written once and worded once.

Pure: no ORM. What a rule needs to know about the rest of the configuration (which names already
use a path prefix, whether enforcement was on before, …) is handed in as plain values by the
model's ``clean()``, which reads it.
"""

from __future__ import annotations

import math
import re
from typing import Collection, Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from . import constants as c
from .durations import DurationError, parse_duration
from .messages import message as m
from .resolution import ordered_kinds

_AAGUID = re.compile(r"^[0-9a-f]{32}$")
_AMR_VALUE = re.compile(r"^[a-z0-9_.-]{1,64}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

Errors = dict[str, list[str]]

# Limits on what a configuration value may hold (README "Limits"). A JSON value nested deeper,
# longer or larger than these is refused with a field error before any other rule looks at it.
MAX_JSON_DEPTH = 4          # levels of lists and objects in one field's value
MAX_JSON_ITEMS = 200        # entries of any one list or object
MAX_RULES = 200             # rules in one of include / require / exclude
MAX_PATH_PREFIXES = 100     # path prefixes of one application
MAX_STRING = 1024           # characters of any one string in a JSON value
MAX_DESCRIPTION = 1024      # characters of an AAGUID list's description
MAX_AAGUID_ITEMS = 1000     # AAGUIDs in one list
# Limits on JSON *text* a person or client sends, before it is parsed: the same as the API's body.
MAX_JSON_TEXT = 256 * 1024  # characters
MAX_JSON_TEXT_DEPTH = 32    # nesting seen in the text (it bounds the parser's recursion)

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


class Placed(str):
    """A refusal of one entry inside a field's value. As text it names the entry in words for a
    person (“Rule 2: …”); ``path`` names it for a machine client (``include[1]``) and ``words`` is
    the refusal alone, so the API can answer ``include[1]: …``. It rides through
    ``ValidationError`` as the error's ``message``."""

    path: str
    words: str

    def __new__(cls, text: str, *, path: str, words: str):
        placed = super().__new__(cls, text)
        placed.path, placed.words = path, words
        return placed

    def __reduce__(self):  # copies and pickles keep the place
        return _placed, (str(self), self.path, self.words)


def _placed(text: str, path: str, words: str) -> Placed:
    return Placed(text, path=path, words=words)


def raise_if_errors(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def shown(value, limit: int = 100) -> str:
    """``value`` as a message may quote it: at most ``limit`` characters."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def json_text_problem(text: str, *, max_chars: int = MAX_JSON_TEXT, max_depth: int = MAX_JSON_TEXT_DEPTH) -> str | None:
    """Why JSON ``text`` is refused before parsing it (too large, nested too deeply), or ``None``.

    The depth is counted on the brackets outside string literals, so text nested thousands of
    levels deep is refused in linear time instead of exhausting the parser's recursion."""
    if len(text) > max_chars:
        return m("json_text_too_large", size=len(text), limit=max_chars)
    depth = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        depth = depth + 1 if bracket in "[{" else depth - 1
        if depth > max_depth:
            return m("json_too_deep", limit=max_depth)
    return None


def json_value_problem(value, *, max_depth: int = MAX_JSON_DEPTH, max_items: int | None = MAX_JSON_ITEMS,
                       max_string: int | None = MAX_STRING) -> str | None:
    """Why a parsed JSON ``value`` cannot be kept, or ``None``: nested deeper than ``max_depth``
    levels of lists and objects, a list or object over ``max_items`` entries, a string over
    ``max_string`` characters, a NUL character (PostgreSQL stores none), a lone surrogate (no
    database stores one) or a number that is not finite. Iterative: any depth is safe."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if max_string is not None and len(item) > max_string:
                return m("json_string_too_long", length=len(item), limit=max_string)
            if "\x00" in item:
                return m("json_nul")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return m("json_surrogate")
        elif isinstance(item, float):
            if not math.isfinite(item):
                return m("json_not_finite")
        elif isinstance(item, (list, dict)):
            if depth + 1 > max_depth:
                return m("json_too_deep", limit=max_depth)
            if max_items is not None and len(item) > max_items:
                return m("json_too_many_items", count=len(item), limit=max_items)
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


def normalize_aaguid(value: str) -> str:
    """``8C39EE86-7F9A-4A95-9BA3-F6B097E5C2EE`` → ``8c39ee867f9a4a959ba3f6b097e5c2ee``."""
    if not isinstance(value, str):
        raise ValueError(m("aaguid_not_text"))
    normalized = value.strip().replace("-", "").lower()
    if not _AAGUID.match(normalized):
        raise ValueError(m("aaguid_format", value=shown(value)))
    return normalized


def authenticators_errors(value) -> list[str]:
    choices = ", ".join(c.AUTHENTICATOR_KINDS)
    if not isinstance(value, list):
        return [m("methods_not_a_list", choices=choices)]
    problem = json_value_problem(value)
    if problem:
        return [problem]
    unknown = [v for v in value if v not in c.AUTHENTICATOR_KINDS]
    if unknown:
        return [m("methods_unknown", unknown=shown(", ".join(map(repr, unknown))), choices=choices)]
    if len(set(value)) != len(value):
        return [m("methods_repeated")]
    return []


def canonical_kinds(value: Iterable[str]) -> list[str]:
    return list(ordered_kinds(set(value)))


def duration_errors(value) -> list[str]:
    try:
        parse_duration(value)
    except DurationError as exc:
        return [m("duration_field", problem=exc)]
    return []


def environment_errors(env) -> Errors:
    errors: Errors = {}
    for text in authenticators_errors(env.allowed_authenticators):
        _add(errors, "allowed_authenticators", text)
    if env.mfa_requirement not in dict(c.ENV_REQUIREMENT_CHOICES):
        _add(errors, "mfa_requirement", m("environment_requirement"))
    if env.mfa_requirement == c.ENV_YES and not env.allowed_authenticators:
        _add(errors, "allowed_authenticators", m("environment_yes_needs_methods"))
    if "allowed_authenticators" not in errors:
        env.allowed_authenticators = canonical_kinds(env.allowed_authenticators)
    return errors


#: At most this many sign-ins may skip enrollment in a grace period.
MAX_GRACE_SIGN_INS = 100


def enrollment_grace_errors(org, *, now, stored_grace_until=None) -> Errors:
    """The grace period: a date that is set or changed must lie in the future (a stored date that
    has passed may stay: the period simply ended); a number of sign-ins is 1 to 100."""
    errors: Errors = {}
    until = org.enrollment_grace_until
    if until is not None and until != stored_grace_until and now is not None and until <= now:
        _add(errors, "enrollment_grace_until", m("grace_until_past"))
    count = org.enrollment_grace_sign_ins
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                              or not 1 <= count <= MAX_GRACE_SIGN_INS):
        _add(errors, "enrollment_grace_sign_ins", m("grace_sign_ins_range", limit=MAX_GRACE_SIGN_INS))
    return errors


def organization_errors(org, *, custom_mfa_owners: Iterable[str] = (), was_enforced: bool = False,
                        environment_requires_mfa: bool = False, aaguid_list_organization_id=None,
                        now=None, stored_grace_until=None) -> Errors:
    """``now`` and ``stored_grace_until`` (the stored grace date) judge the grace period
    (:func:`enrollment_grace_errors`); ``custom_mfa_owners``: “application “A”” / “policy “P”” with custom MFA settings in ``org``
    (asked only when ``org`` turns independent MFA off); ``was_enforced``: the stored value of
    ``mfa_required_for_all_apps``; ``environment_requires_mfa``: the environment says Yes;
    ``aaguid_list_organization_id``: the organization the chosen AAGUID list belongs to."""
    errors: Errors = {}
    if not (org.name or "").strip():
        _add(errors, "name", m("organization_name"))
    for text in authenticators_errors(org.allowed_authenticators):
        _add(errors, "allowed_authenticators", text)
    for field in ("session_duration", "amr_session_duration"):
        for text in duration_errors(getattr(org, field)):
            _add(errors, field, text)
    for field, texts in enrollment_grace_errors(org, now=now, stored_grace_until=stored_grace_until).items():
        for text in texts:
            _add(errors, field, text)
    if "allowed_authenticators" in errors:
        return errors
    org.allowed_authenticators = canonical_kinds(org.allowed_authenticators)

    if org.mfa_required_for_all_apps and not org.allowed_authenticators:
        _add(errors, "mfa_required_for_all_apps", m("enforce_needs_methods"))
    if org.amr_matching_enabled and org.required_aaguids_id:
        _add(errors, "amr_matching_enabled", m("amr_with_aaguid_list"))
    if org.required_aaguids_id and org.pk and aaguid_list_organization_id != org.pk:
        _add(errors, "required_aaguids", m("aaguid_list_of_another_organization"))

    customs = list(custom_mfa_owners)
    if not org.allowed_authenticators and customs:
        _add(errors, "allowed_authenticators", m("independent_mfa_off_with_customs", owners=", ".join(customs)))
    if was_enforced and not org.mfa_required_for_all_apps and environment_requires_mfa:
        _add(errors, "mfa_required_for_all_apps", m("enforcement_off_while_environment_yes"))
    return errors


def connection_errors(connection, *, provider_id_taken_by: str | None = None) -> Errors:
    """``provider_id_taken_by``: the key of another connection with the same ``provider_id``."""
    errors: Errors = {}
    if connection.provider_id and not connection.is_enterprise:
        _add(errors, "provider_id", m("provider_id_local"))
    if connection.provider_id and provider_id_taken_by is not None:
        _add(errors, "provider_id", m("provider_id_taken", connection=provider_id_taken_by, provider_id=connection.provider_id))
    return errors


def exempt_connections_errors(connections) -> Errors:
    """Only enterprise connections can be exempt (seed 000): a password can never skip MFA."""
    local = sorted(conn.key for conn in connections if not conn.is_enterprise)
    if local:
        return {"exempt_connections": [
            m("exempt_connections_local", keys=", ".join(local), verb="is" if len(local) == 1 else "are")]}
    return {}


def mfa_config_errors(*, mode: str, allowed, duration: str, organization) -> Errors:
    errors: Errors = {}
    if mode not in dict(c.MFA_MODE_CHOICES):
        _add(errors, "mfa_mode", m("mfa_mode"))
        return errors
    if mode != c.MODE_CUSTOM:
        return errors
    for text in authenticators_errors(allowed):
        _add(errors, "mfa_allowed_authenticators", text)
    if not errors and not allowed:
        _add(errors, "mfa_allowed_authenticators", m("custom_needs_methods"))
    for text in duration_errors(duration):
        _add(errors, "mfa_session_duration", text)
    if organization is not None and not organization.allowed_authenticators:
        _add(errors, "mfa_mode", m("custom_needs_independent_mfa", organization=organization.name))
    return errors


def application_errors(app, *, prefix_owners: dict[str, str] | None = None) -> Errors:
    """``prefix_owners``: path prefix → the name of the other application covering it."""
    errors: Errors = {}
    if not (app.name or "").strip():
        _add(errors, "name", m("application_name"))
    for text in duration_errors(app.session_duration):
        _add(errors, "session_duration", text)
    prefixes = app.path_prefixes
    if isinstance(prefixes, list) and len(prefixes) > MAX_PATH_PREFIXES:
        _add(errors, "path_prefixes", m("prefixes_too_many", count=len(prefixes), limit=MAX_PATH_PREFIXES))
        return errors
    problem = json_value_problem(prefixes)
    if problem:
        _add(errors, "path_prefixes", problem)
        return errors
    if not isinstance(prefixes, list) or not all(isinstance(p, str) for p in prefixes):
        _add(errors, "path_prefixes", m("prefixes_not_a_list"))
        return errors
    for prefix in prefixes:
        if not prefix.startswith("/") or any(ch.isspace() for ch in prefix) or "?" in prefix or "#" in prefix:
            _add(errors, "path_prefixes", m("prefix_malformed", prefix=shown(prefix)))
    if len(set(prefixes)) != len(prefixes):
        _add(errors, "path_prefixes", m("prefix_repeated"))
    taken = prefix_owners or {}
    if prefixes:
        for prefix in prefixes:
            if prefix in taken:
                _add(errors, "path_prefixes", m("prefix_taken", prefix=shown(prefix), application=taken[prefix]))
    return errors


def rule_values(rules, selector: str) -> set[str]:
    """The string values ``rules`` give ``selector`` (malformed rules skipped): what a caller must
    look up before :func:`rule_errors` can say whether they exist."""
    if not isinstance(rules, list):
        return set()
    return {rule["value"] for rule in rules
            if isinstance(rule, dict) and rule.get("selector") == selector and isinstance(rule.get("value"), str)}


def rule_errors(field: str, rules, *, role_keys: Collection[str] = (), connection_keys: Collection[str] = ()) -> list[str]:
    """``role_keys`` / ``connection_keys``: which of the keys the rules name exist."""
    if isinstance(rules, list) and len(rules) > MAX_RULES:
        return [m("rules_too_many", count=len(rules), limit=MAX_RULES)]
    problem = json_value_problem(rules)
    if problem:
        return [problem]
    if not isinstance(rules, list):
        return [m("rules_not_a_list")]
    messages: list[str] = []
    for index, rule in enumerate(rules):
        words = _rule_problem(rule, role_keys=role_keys, connection_keys=connection_keys)
        if words:
            messages.append(Placed(m("rule_place", number=index + 1, problem=words), path=f"{field}[{index}]",
                                   words=words))
    return messages


def _rule_problem(rule, *, role_keys: Collection[str], connection_keys: Collection[str]) -> str | None:
    """What is wrong with one rule, in words that follow its place (“Rule 2: …”), or ``None``."""
    if not isinstance(rule, dict) or set(rule) - {"selector", "value"} or "selector" not in rule:
        return m("rule_shape")
    selector, value = rule["selector"], rule.get("value", "")
    if selector not in c.SELECTORS:
        return m("rule_selector", selector=shown(selector), choices=", ".join(c.SELECTORS))
    if not isinstance(value, str):
        return m("rule_value_not_text")
    if selector == c.SELECTOR_EVERYONE:
        return m("rule_everyone_value") if value else None
    if not value:
        return m("rule_value_needed", selector=selector)
    if selector == c.SELECTOR_EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            return m("rule_email", value=shown(value))
    elif selector == c.SELECTOR_EMAIL_DOMAIN:
        if not _DOMAIN.match(value.lower().lstrip("@")):
            return m("rule_email_domain", value=shown(value))
    elif selector == c.SELECTOR_ROLE:
        if value not in role_keys:
            return m("rule_role", value=shown(value))
    elif selector == c.SELECTOR_CONNECTION:
        if value not in connection_keys:
            return m("rule_connection", value=shown(value))
    elif selector == c.SELECTOR_AUTH_METHOD:
        if not _AMR_VALUE.match(value):
            return m("rule_amr", value=shown(value))
    return None


def normalize_rules(rules: list[dict]) -> list[dict]:
    """Lowercase emails and domains (they compare case-insensitively); keep everything else."""
    out = []
    for rule in rules:
        value = rule.get("value", "")
        if rule["selector"] == c.SELECTOR_EMAIL:
            value = value.strip().lower()
        elif rule["selector"] == c.SELECTOR_EMAIL_DOMAIN:
            value = value.strip().lower().lstrip("@")
        out.append({"selector": rule["selector"], "value": value})
    return out


def policy_errors(policy, *, role_keys: Collection[str] = (), connection_keys: Collection[str] = ()) -> Errors:
    errors: Errors = {}
    if not (policy.name or "").strip():
        _add(errors, "name", m("policy_name"))
    if policy.decision not in dict(c.DECISION_CHOICES):
        _add(errors, "decision", m("decision"))
    for field in ("include", "require", "exclude"):
        for message in rule_errors(field, getattr(policy, field), role_keys=role_keys,
                                   connection_keys=connection_keys):
            _add(errors, field, message)
    if "include" not in errors and not policy.include:
        _add(errors, "include", m("include_needed"))
    if policy.decision != c.ALLOW and policy.mfa_mode == c.MODE_CUSTOM:
        _add(errors, "mfa_mode", m("custom_on_allow_only"))
    if not errors:
        for field in ("include", "require", "exclude"):
            setattr(policy, field, normalize_rules(getattr(policy, field)))
    return errors


def aaguid_list_errors(aaguid_list) -> Errors:
    """A list needs a name; its description is bounded."""
    errors: Errors = {}
    if not (aaguid_list.name or "").strip():
        _add(errors, "name", m("aaguid_list_name"))
    if len(aaguid_list.description or "") > MAX_DESCRIPTION:
        _add(errors, "description", m("text_too_long", length=len(aaguid_list.description), limit=MAX_DESCRIPTION))
    return errors
