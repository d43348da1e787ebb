"""Every rule about what a valid MFA configuration is, in one place.

Each ``*_errors`` function returns ``{field: [message, ...]}`` (empty when valid), with messages
that name the field and say what to do. Models call these from ``clean()``; admin forms and the
API reuse them, so a rule is written once and worded once.

Pure: no ORM. What a rule needs to know about the rest of the configuration (which names already
use a path prefix, whether enforcement was on before, …) is handed in as plain values by the
model's ``clean()``, which reads it.
"""

from __future__ import annotations

import re
from typing import Collection, Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from . import constants as c
from .durations import DurationError, parse_duration
from .resolution import ordered_kinds

_AAGUID = re.compile(r"^[0-9a-f]{32}$")
_AMR_VALUE = re.compile(r"^[a-z0-9_.-]{1,64}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

Errors = dict[str, list[str]]


def raise_if_errors(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def normalize_aaguid(value: str) -> str:
    """``8C39EE86-7F9A-4A95-9BA3-F6B097E5C2EE`` → ``8c39ee867f9a4a959ba3f6b097e5c2ee``."""
    if not isinstance(value, str):
        raise ValueError("An AAGUID is a string of 32 hexadecimal characters.")
    normalized = value.strip().replace("-", "").lower()
    if not _AAGUID.match(normalized):
        raise ValueError(
            f"“{value}” is not an AAGUID: use 32 hexadecimal characters without dashes, "
            "e.g. 8c39ee867f9a4a959ba3f6b097e5c2ee."
        )
    return normalized


def authenticators_errors(field: str, value) -> list[str]:
    if not isinstance(value, list):
        return [f"{field} must be a list of methods: {', '.join(c.AUTHENTICATOR_KINDS)}."]
    unknown = [v for v in value if v not in c.AUTHENTICATOR_KINDS]
    if unknown:
        return [
            f"{field}: unknown method {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(c.AUTHENTICATOR_KINDS)}."
        ]
    if len(set(value)) != len(value):
        return [f"{field}: each method may be listed once."]
    return []


def canonical_kinds(value: Iterable[str]) -> list[str]:
    return list(ordered_kinds(set(value)))


def duration_errors(field: str, value) -> list[str]:
    try:
        parse_duration(value)
    except DurationError as exc:
        return [f"{field}: {exc}."]
    return []


def environment_errors(env) -> Errors:
    errors: Errors = {}
    for message in authenticators_errors("allowed_authenticators", env.allowed_authenticators):
        _add(errors, "allowed_authenticators", message)
    if env.mfa_requirement not in dict(c.ENV_REQUIREMENT_CHOICES):
        _add(errors, "mfa_requirement", "mfa_requirement must be one of no, yes, optional.")
    if env.mfa_requirement == c.ENV_YES and not env.allowed_authenticators:
        _add(
            errors, "allowed_authenticators",
            "allowed_authenticators: choose at least one default method when the environment requires MFA.",
        )
    if "allowed_authenticators" not in errors:
        env.allowed_authenticators = canonical_kinds(env.allowed_authenticators)
    return errors


def organization_errors(org, *, custom_mfa_owners: Iterable[str] = (), was_enforced: bool = False,
                        environment_requires_mfa: bool = False, aaguid_list_organization_id=None) -> Errors:
    """``custom_mfa_owners``: “application “A”” / “policy “P”” with custom MFA settings in ``org``
    (asked only when ``org`` turns independent MFA off); ``was_enforced``: the stored value of
    ``mfa_required_for_all_apps``; ``environment_requires_mfa``: the environment says Yes;
    ``aaguid_list_organization_id``: the organization the chosen AAGUID list belongs to."""
    errors: Errors = {}
    if not (org.name or "").strip():
        _add(errors, "name", "name: an organization needs a name.")
    for message in authenticators_errors("allowed_authenticators", org.allowed_authenticators):
        _add(errors, "allowed_authenticators", message)
    for field in ("session_duration", "amr_session_duration"):
        for message in duration_errors(field, getattr(org, field)):
            _add(errors, field, message)
    if "allowed_authenticators" in errors:
        return errors
    org.allowed_authenticators = canonical_kinds(org.allowed_authenticators)

    if org.mfa_required_for_all_apps and not org.allowed_authenticators:
        _add(
            errors, "mfa_required_for_all_apps",
            "mfa_required_for_all_apps: choose at least one method before enforcing MFA for all applications.",
        )
    if org.amr_matching_enabled and org.required_aaguids_id:
        _add(
            errors, "amr_matching_enabled",
            "amr_matching_enabled: identity provider MFA and an AAGUID list cannot both be on — the IdP's "
            "amr claim carries no AAGUID, so it cannot prove an approved authenticator was used.",
        )
    if org.required_aaguids_id and org.pk and aaguid_list_organization_id != org.pk:
        _add(errors, "required_aaguids", "required_aaguids: the AAGUID list belongs to another organization.")

    customs = list(custom_mfa_owners)
    if not org.allowed_authenticators and customs:
        _add(
            errors, "allowed_authenticators",
            "allowed_authenticators: independent MFA cannot be turned off while custom MFA settings "
            f"exist on {', '.join(customs)}. Remove those custom settings first.",
        )
    if was_enforced and not org.mfa_required_for_all_apps and environment_requires_mfa:
        _add(
            errors, "mfa_required_for_all_apps",
            "mfa_required_for_all_apps: enforcement cannot be switched off while the environment "
            "requires MFA (Environment → Multi-factor auth is “Yes”). Switch the environment to "
            "“No” or “Optional” first.",
        )
    return errors


def connection_errors(connection, *, provider_id_taken_by: str | None = None) -> Errors:
    """``provider_id_taken_by``: the key of another connection with the same ``provider_id``."""
    errors: Errors = {}
    if connection.provider_id and not connection.is_enterprise:
        _add(errors, "provider_id", "provider_id: only enterprise (OIDC or SAML) connections sign in through a provider.")
    if connection.provider_id and provider_id_taken_by is not None:
        _add(errors, "provider_id",
             f"provider_id: connection “{provider_id_taken_by}” already signs in through “{connection.provider_id}”.")
    return errors


def exempt_connections_errors(connections) -> Errors:
    """Only enterprise connections can be exempt (seed 000): a password can never skip MFA."""
    local = sorted(conn.key for conn in connections if not conn.is_enterprise)
    if local:
        return {"exempt_connections": [
            f"exempt_connections: only enterprise connections can be exempt; {', '.join(local)} "
            f"{'is' if len(local) == 1 else 'are'} not."]}
    return {}


def mfa_config_errors(*, mode: str, allowed, duration: str, organization) -> Errors:
    errors: Errors = {}
    if mode not in dict(c.MFA_MODE_CHOICES):
        _add(errors, "mfa_mode", "mfa_mode must be one of inherit, custom, disabled.")
        return errors
    if mode != c.MODE_CUSTOM:
        return errors
    for message in authenticators_errors("mfa_allowed_authenticators", allowed):
        _add(errors, "mfa_allowed_authenticators", message)
    if not errors and not allowed:
        _add(errors, "mfa_allowed_authenticators",
             "mfa_allowed_authenticators: custom MFA settings need at least one method.")
    for message in duration_errors("mfa_session_duration", duration):
        _add(errors, "mfa_session_duration", message)
    if organization is not None and not organization.allowed_authenticators:
        _add(
            errors, "mfa_mode",
            f"mfa_mode: custom MFA settings need independent MFA turned on for “{organization.name}” "
            "first (choose its methods in the organization's access settings).",
        )
    return errors


def application_errors(app, *, prefix_owners: dict[str, str] | None = None) -> Errors:
    """``prefix_owners``: path prefix → the name of the other application covering it."""
    errors: Errors = {}
    if not (app.name or "").strip():
        _add(errors, "name", "name: an application needs a name.")
    for message in duration_errors("session_duration", app.session_duration):
        _add(errors, "session_duration", message)
    prefixes = app.path_prefixes
    if not isinstance(prefixes, list) or not all(isinstance(p, str) for p in prefixes):
        _add(errors, "path_prefixes", "path_prefixes must be a list of paths such as /demo/a/.")
        return errors
    for prefix in prefixes:
        if not prefix.startswith("/") or any(ch.isspace() for ch in prefix) or "?" in prefix or "#" in prefix:
            _add(errors, "path_prefixes",
                 f"path_prefixes: “{prefix}” must be a path starting with / with no spaces, query or fragment.")
    if len(set(prefixes)) != len(prefixes):
        _add(errors, "path_prefixes", "path_prefixes: each prefix may be listed once.")
    taken = prefix_owners or {}
    if prefixes:
        for prefix in prefixes:
            if prefix in taken:
                _add(errors, "path_prefixes",
                     f"path_prefixes: “{prefix}” is already covered by application “{taken[prefix]}”.")
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
    if not isinstance(rules, list):
        return [f"{field} must be a list of rules like {{\"selector\": \"email\", \"value\": \"a@b.example\"}}."]
    messages: list[str] = []
    for index, rule in enumerate(rules):
        where = f"{field}[{index}]"
        if not isinstance(rule, dict) or set(rule) - {"selector", "value"} or "selector" not in rule:
            messages.append(f"{where} must be an object with “selector” and “value”.")
            continue
        selector, value = rule["selector"], rule.get("value", "")
        if selector not in c.SELECTORS:
            messages.append(f"{where}: unknown selector {selector!r}; choose from {', '.join(c.SELECTORS)}.")
            continue
        if not isinstance(value, str):
            messages.append(f"{where}: value must be a string.")
            continue
        if selector == c.SELECTOR_EVERYONE:
            if value:
                messages.append(f"{where}: the everyone selector takes no value.")
            continue
        if not value:
            messages.append(f"{where}: the {selector} selector needs a value.")
            continue
        if selector == c.SELECTOR_EMAIL:
            try:
                validate_email(value)
            except ValidationError:
                messages.append(f"{where}: “{value}” is not an email address.")
        elif selector == c.SELECTOR_EMAIL_DOMAIN:
            if not _DOMAIN.match(value.lower().lstrip("@")):
                messages.append(f"{where}: “{value}” is not an email domain such as example.com.")
        elif selector == c.SELECTOR_ROLE:
            if value not in role_keys:
                messages.append(f"{where}: there is no role with key “{value}”.")
        elif selector == c.SELECTOR_CONNECTION:
            if value not in connection_keys:
                messages.append(f"{where}: there is no connection with key “{value}”.")
        elif selector == c.SELECTOR_AUTH_METHOD:
            if not _AMR_VALUE.match(value):
                messages.append(
                    f"{where}: “{value}” is not an amr value; RFC 8176 values are lowercase, e.g. mfa, hwk, otp."
                )
    return messages


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
        _add(errors, "name", "name: a policy needs a name.")
    if policy.decision not in dict(c.DECISION_CHOICES):
        _add(errors, "decision", "decision must be one of allow, deny, bypass.")
    for field in ("include", "require", "exclude"):
        for message in rule_errors(field, getattr(policy, field), role_keys=role_keys,
                                   connection_keys=connection_keys):
            _add(errors, field, message)
    if "include" not in errors and not policy.include:
        _add(errors, "include", "include: a policy needs at least one include rule (use everyone to match all members).")
    if policy.decision != c.ALLOW and policy.mfa_mode == c.MODE_CUSTOM:
        _add(errors, "mfa_mode", "mfa_mode: custom MFA settings apply to Allow policies only.")
    if not errors:
        for field in ("include", "require", "exclude"):
            setattr(policy, field, normalize_rules(getattr(policy, field)))
    return errors
