"""Every user-facing message of the configuration core and the access runtime, by key.

Validation (:mod:`.validation`), the services, durations and the runtime's pages raise or show
these by key through :func:`message`; the wording lives here only, so the admin, the API and
``explain_access`` say the same thing.
"""

from __future__ import annotations

MESSAGES = {
    # ------------------------------------------------------------------ the access runtime
    "enroll_first": "“{app}” requires multi-factor authentication with {kinds}. Add one to continue.",
    "no_challenge": "There is nothing to verify right now. Open the application again.",
    "verified": "Verified with {kind}.",
    "kind_not_allowed": "That authenticator cannot be used for “{app}”. Use {kinds}.",
    "denied_help": "If you think you should have access, ask your administrator to check the access "
                   "policies of “{app}”. Signing in another way (for example through your company's "
                   "identity provider) may also change the decision.",
    "unavailable_title": "Temporarily unavailable",
    "unavailable": "mfagate cannot reach a service it needs right now. Nothing was changed and no access "
                   "was granted. Try again in a few seconds.",
    "server_error_title": "Something went wrong",
    "server_error": "mfagate could not answer this request. Nothing was granted. Try again; if it keeps "
                    "happening, tell your administrator the reference below.",
    "error_reference": "Reference: {request_id}",
    # ------------------------------------------------------------------------ durations
    "duration_not_text": "must be a string such as 30m, 1h, 24h or 1h30m",
    "duration_format": "“{value}” is not a duration; use whole hours and minutes such as 30m, 1h, 24h or 1h30m",
    "duration_minutes": "“{value}”: minutes after hours must be below 60",
    "duration_too_long": "“{value}” is longer than the maximum of 720h",
    "duration_not_whole_minutes": "durations are whole minutes from 0m to 720h",
    "duration_field": "{field}: {problem}.",
    # -------------------------------------------------------------------------- methods
    "methods_not_a_list": "{field} must be a list of methods: {choices}.",
    "methods_unknown": "{field}: unknown method {unknown}; choose from {choices}.",
    "methods_repeated": "{field}: each method may be listed once.",
    # ---------------------------------------------------------------------- environment
    "environment_requirement": "mfa_requirement must be one of no, yes, optional.",
    "environment_yes_needs_methods": "allowed_authenticators: choose at least one default method when the "
                                     "environment requires MFA.",
    # --------------------------------------------------------------------- organization
    "organization_name": "name: an organization needs a name.",
    "enforce_needs_methods": "mfa_required_for_all_apps: choose at least one method before enforcing MFA for all "
                             "applications.",
    "amr_with_aaguid_list": "amr_matching_enabled: identity provider MFA and an AAGUID list cannot both be on — the "
                            "IdP's amr claim carries no AAGUID, so it cannot prove an approved authenticator was used.",
    "aaguid_list_of_another_organization": "required_aaguids: the AAGUID list belongs to another organization.",
    "independent_mfa_off_with_customs": "allowed_authenticators: independent MFA cannot be turned off while custom "
                                        "MFA settings exist on {owners}. Remove those custom settings first.",
    "enforcement_off_while_environment_yes": "mfa_required_for_all_apps: enforcement cannot be switched off while the "
                                             "environment requires MFA (Environment → Multi-factor auth is “Yes”). "
                                             "Switch the environment to “No” or “Optional” first.",
    # ----------------------------------------------------------------------- connections
    "provider_id_local": "provider_id: only enterprise (OIDC or SAML) connections sign in through a provider.",
    "provider_id_taken": "provider_id: connection “{connection}” already signs in through “{provider_id}”.",
    "exempt_connections_local": "exempt_connections: only enterprise connections can be exempt; {keys} {verb} not.",
    # ----------------------------------------------------------------------- mfa_config
    "mfa_mode": "mfa_mode must be one of inherit, custom, disabled.",
    "custom_needs_methods": "mfa_allowed_authenticators: custom MFA settings need at least one method.",
    "custom_needs_independent_mfa": "mfa_mode: custom MFA settings need independent MFA turned on for “{organization}” "
                                    "first (choose its methods in the organization's access settings).",
    "custom_on_allow_only": "mfa_mode: custom MFA settings apply to Allow policies only.",
    # ---------------------------------------------------------------------- applications
    "application_name": "name: an application needs a name.",
    "prefixes_not_a_list": "path_prefixes must be a list of paths such as /demo/a/.",
    "prefix_malformed": "path_prefixes: “{prefix}” must be a path starting with / with no spaces, query or fragment.",
    "prefix_repeated": "path_prefixes: each prefix may be listed once.",
    "prefix_taken": "path_prefixes: “{prefix}” is already covered by application “{application}”.",
    "policy_of_another_organization": "policies: policy “{policy}” belongs to another organization.",
    "policy_listed_twice": "policies: policy “{policy}” is listed twice.",
    "precedence_twice": "policies: precedence {precedence} is used twice; each policy needs its own.",
    "attach_across_organizations": "A policy can only be attached to applications of its own organization.",
    # -------------------------------------------------------------------------- policies
    "policy_name": "name: a policy needs a name.",
    "decision": "decision must be one of allow, deny, bypass.",
    "include_needed": "include: a policy needs at least one include rule (use everyone to match all members).",
    "rules_not_a_list": "{field} must be a list of rules like {{\"selector\": \"email\", \"value\": \"a@b.example\"}}.",
    "rule_shape": "{where} must be an object with “selector” and “value”.",
    "rule_selector": "{where}: unknown selector {selector!r}; choose from {choices}.",
    "rule_value_not_text": "{where}: value must be a string.",
    "rule_everyone_value": "{where}: the everyone selector takes no value.",
    "rule_value_needed": "{where}: the {selector} selector needs a value.",
    "rule_email": "{where}: “{value}” is not an email address.",
    "rule_email_domain": "{where}: “{value}” is not an email domain such as example.com.",
    "rule_role": "{where}: there is no role with key “{value}”.",
    "rule_connection": "{where}: there is no connection with key “{value}”.",
    "rule_amr": "{where}: “{value}” is not an amr value; RFC 8176 values are lowercase, e.g. mfa, hwk, otp.",
    # ----------------------------------------------------------------------- AAGUID lists
    "aaguid_not_text": "An AAGUID is a string of 32 hexadecimal characters.",
    "aaguid_format": "“{value}” is not an AAGUID: use 32 hexadecimal characters without dashes, "
                     "e.g. 8c39ee867f9a4a959ba3f6b097e5c2ee.",
    "aaguid_repeated": "“{value}” is already in this list; each AAGUID may be listed once.",
    "aaguid_list_name": "A list needs a name.",
    "aaguid_list_in_use": "required_aaguids: the list “{name}” is in use by {organizations}; set its required_aaguids "
                          "to null (or another list) first.",
    # --------------------------------------------------------------------- policy tester
    "tester_no_user": "There is no user with email {email}.",
    "tester_amr_limits": "Give at most 20 amr values of up to 64 characters each.",
}


def message(key: str, **params) -> str:
    return MESSAGES[key].format(**params)
