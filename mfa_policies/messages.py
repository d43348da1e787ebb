"""Every user-facing message of the configuration core and the access runtime, by key.

Validation (:mod:`.validation`), the services, durations and the runtime's pages raise or show
these by key through :func:`message`; the wording lives here only, so the admin, the API and
``explain_access`` say the same thing.
"""

from __future__ import annotations

from . import constants as c

MESSAGES = {
    # ------------------------------------------------------------------ the access runtime
    "enroll_first": "“{app}” requires multi-factor authentication with {kinds}. Add one to continue.",
    "no_challenge": "There is nothing to verify right now. Open the application again.",
    "verified": "Verified with {kind}.",
    "kind_not_allowed": "That authenticator cannot be used for “{app}”. Use {kinds}.",
    "denied_help": "If you think you should have access, ask your administrator to check the access "
                   "policies of “{app}”. Signing in another way (for example through your company's "
                   "identity provider) may also change the decision.",
    "grace_unavailable": "Enrollment can no longer be skipped here: the grace period has ended or no longer "
                         "applies. Add an MFA device to continue.",
    "grace_nothing_to_skip": "There is nothing to skip right now. Open the application again.",
    "enroll_later_done": "You skipped setting up MFA for “{app}” this time.",
    "unavailable_title": "Temporarily unavailable",
    "unavailable": "mfagate cannot reach a service it needs right now. Nothing was changed and no access "
                   "was granted. Try again in a few seconds.",
    "server_error_title": "Something went wrong",
    "server_error": "mfagate could not answer this request. Nothing was granted. Try again; if it keeps "
                    "happening, tell your administrator the reference below.",
    "error_reference": "Reference: {request_id}",
    # The MFA challenge page: what this application accepts, and what to do without any of it.
    "challenge_accepts": "“{app}” accepts {kinds}. Verify with one of your MFA devices to continue.",
    "challenge_none_title": "Don't have any of these with you?",
    "challenge_none_add": "Add an MFA device that “{app}” accepts. You verify with one of your current MFA "
                          "devices first.",
    "challenge_none_admin": "Lost access to all of your MFA devices? Contact your administrator: they can "
                            "delete the lost devices so you can enroll a new one.",
    # ------------------------------------------------------------------------ durations
    # Refusals name no field: the admin shows them next to it, the API puts the field's name in
    # front ("<field>: <words>", api/envelope.py). A setting named in words is named by its label.
    "duration_not_text": "Enter a duration as text, such as 30m, 1h, 24h or 1h30m",
    "duration_format": "“{value}” is not a duration; use whole hours and minutes such as 30m, 1h, 24h or 1h30m",
    "duration_minutes": "“{value}”: minutes after hours must be below 60",
    "duration_too_long": "“{value}” is longer than the maximum of 720h",
    "duration_not_whole_minutes": "Durations are whole minutes from 0m to 720h",
    "duration_field": "{problem}.",
    # -------------------------------------------------------------------------- methods
    "methods_not_a_list": "Give the methods as a list of {choices}.",
    "methods_unknown": "Unknown method {unknown}; choose from {choices}.",
    "methods_repeated": "Each method may be listed once.",
    # ---------------------------------------------------------------------- environment
    "environment_requirement": "Choose “No”, “Yes” or “Optional”.",
    "environment_yes_needs_methods": "Choose at least one default method: the environment requires MFA "
                                     "(“Multi-factor auth” is “Yes”).",
    # --------------------------------------------------------------------- organization
    "organization_name": "An organization needs a name.",
    "enforce_needs_methods": "Choose at least one of the “Methods” before enforcing multi-factor authentication for "
                             "this organization.",
    "amr_with_aaguid_list": "“Use identity provider MFA” and an “AAGUID list” cannot both be turned on: AAGUID "
                            "information is not present in the identity provider's AMR claim, so it cannot prove that "
                            "an approved authenticator was used. Turn off “Use identity provider MFA” or clear the "
                            "“AAGUID list”.",
    "aaguid_list_of_another_organization": "This AAGUID list belongs to another organization; choose one of this "
                                           "organization's lists.",
    "independent_mfa_off_with_customs": "Independent MFA cannot be turned off while custom MFA settings exist on "
                                        "{owners}. Remove those custom settings first (choose “Respect global "
                                        "enforcement setting” or “Disable MFA” there).",
    "enforcement_off_while_environment_yes": "Enforcement cannot be switched off while the environment requires MFA "
                                             "(Environment → Multi-factor auth is “Yes”). Switch the environment to "
                                             "“No” or “Optional” first.",
    "grace_until_past": "Choose a date and time in the future: users who have not enrolled may skip enrollment "
                        "until then. Leave it empty for no grace period by date.",
    "grace_sign_ins_range": "Enter a whole number of sign-ins from 1 to {limit}, or leave it empty for no grace "
                            "period by number of sign-ins.",
    # ----------------------------------------------------------------------- connections
    "provider_id_local": "Only enterprise (OIDC or SAML) connections sign in through a provider: leave the provider "
                         "id empty, or choose an enterprise kind.",
    "provider_id_taken": "Connection “{connection}” already signs in through “{provider_id}”.",
    "exempt_connections_local": "Only enterprise connections can be exempt; {keys} {verb} not.",
    # ----------------------------------------------------------------------- mfa_config
    "mfa_mode": "Choose “Respect global enforcement setting”, “Custom MFA settings” or “Disable MFA”.",
    "custom_needs_methods": "Custom MFA settings need at least one of the “MFA methods”.",
    "custom_needs_independent_mfa": "Custom MFA settings need independent MFA turned on for “{organization}” first: "
                                    "choose its “Methods” in the organization's Multi-factor auth settings.",
    "custom_on_allow_only": "Custom MFA settings apply to Allow policies only.",
    # ---------------------------------------------------------------------- applications
    "application_name": "An application needs a name.",
    "prefixes_not_a_list": "Path prefixes must be a list of paths such as [\"/demo/a/\"].",
    "prefix_malformed": "“{prefix}” must be a path starting with / with no spaces, query or fragment.",
    "prefix_repeated": "Each prefix may be listed once.",
    "prefix_taken": "“{prefix}” is already covered by application “{application}”.",
    "policy_of_another_organization": "Policy “{policy}” belongs to another organization.",
    "policy_listed_twice": "Policy “{policy}” is listed twice.",
    "precedence_twice": "Precedence {precedence} is used twice; each policy needs its own.",
    "attach_across_organizations": "A policy can only be attached to applications of its own organization.",
    # -------------------------------------------------------------------------- policies
    "policy_name": "A policy needs a name.",
    "decision": "Choose “Allow”, “Deny” or “Bypass”.",
    "include_needed": "A policy needs at least one include rule (use the everyone selector to match all members).",
    "rules_not_a_list": "Rules must be a list such as [{{\"selector\": \"email\", \"value\": \"a@b.example\"}}].",
    # One rule of include / require / exclude: "Rule 2: …" in the admin, "include[1]: …" in the API.
    "rule_place": "Rule {number}: {problem}",
    "rule_shape": "must be an object with “selector” and “value”.",
    "rule_selector": "unknown selector “{selector}”; choose from {choices}.",
    "rule_value_not_text": "the value must be a string.",
    "rule_everyone_value": "the everyone selector takes no value.",
    "rule_value_needed": "the {selector} selector needs a value.",
    "rule_email": "“{value}” is not an email address.",
    "rule_email_domain": "“{value}” is not an email domain such as example.com.",
    "rule_role": "there is no role with key “{value}”.",
    "rule_connection": "there is no connection with key “{value}”.",
    "rule_amr": "“{value}” is not an amr value; RFC 8176 values are lowercase, e.g. mfa, hwk, otp.",
    # ----------------------------------------------------------------------- AAGUID lists
    "aaguid_not_text": "An AAGUID is a string of 32 hexadecimal characters.",
    "aaguid_format": "“{value}” is not an AAGUID: use 32 hexadecimal characters without dashes, "
                     "e.g. 8c39ee867f9a4a959ba3f6b097e5c2ee.",
    "aaguid_repeated": "“{value}” is already in this list; each AAGUID may be listed once.",
    "aaguid_list_name": "A list needs a name.",
    "aaguid_list_in_use": "The list “{name}” is the AAGUID list of {organizations}; choose another AAGUID list "
                          "there (or none) first.",
    # ------------------------------------------------------------------------ API tokens
    "token_scopes_unknown": "Choose scopes from {choices}.",
    "token_needs_scope": "A token needs at least one scope.",
    "token_owner_not_admin": "A token acts as its owner, who must be an active admin (staff) user.",
    # ------------------------------------------------------------ audit log (the admin's filters)
    "audit_family_security": "All security events",
    "audit_family_mfa": "MFA verifications",
    "audit_family_throttle": "MFA verification throttle",
    "audit_family_step_up": "Step-up window",
    "audit_family_recovery_code": "Recovery codes",
    "audit_family_authenticator": "MFA devices",
    "audit_family_configuration": "All configuration changes",
    "audit_family_environment": "Environment",
    "audit_family_organization": "Organizations",
    "audit_family_application": "Applications",
    "audit_family_policy": "Policies",
    "audit_family_membership": "Memberships",
    "audit_family_role": "Roles",
    "audit_family_connection": "Connections",
    "audit_family_aaguidlist": "AAGUID lists",
    "audit_family_apitoken": "API tokens",
    "audit_family_user": "Users",
    "audit_family_group": "Groups",
    "audit_family_socialapp": "Social applications",
    "audit_family_demo": "Demo data",
    "audit_family_scale": "Scale data",
    "audit_filter_user": "E-mail or user id",
    # ------------------------------------------------------- JSON values and text (limits)
    "json_text_too_large": "This is {size} characters long; at most {limit} are accepted.",
    "json_too_deep": "This is nested too deeply: at most {limit} levels of lists and objects.",
    "json_too_many_items": "A list or object here has {count} entries; at most {limit} are accepted.",
    "json_string_too_long": "A value here is {length} characters long; at most {limit} are accepted.",
    "json_nul": "A value here contains a NUL character (\\u0000), which cannot be stored.",
    "json_surrogate": "A value here contains a lone surrogate (an invalid Unicode character such as \\ud800), "
                      "which cannot be stored.",
    "json_not_finite": "Numbers must be finite (no NaN or Infinity).",
    "rules_too_many": "This has {count} rules; at most {limit} are accepted.",
    "prefixes_too_many": "This has {count} path prefixes; at most {limit} are accepted.",
    "text_too_long": "This is {length} characters long; at most {limit} are accepted.",
    "aaguid_items_too_many": "This list would hold {count} AAGUIDs; at most {limit} are accepted.",
    "formset_counts": "The rows sent do not match the rows of this page (it may be out of date, or the form was "
                      "altered). Reload the page and try again.",
    # --------------------------------------------------------------------- policy tester
    "tester_no_user": "There is no user with email {email}.",
    "tester_amr_limits": "Give at most 20 amr values of up to 64 characters each.",
}


# A kind as a sentence names it: "accepts an authenticator application or a security key".
KIND_PHRASES = {c.TOTP: "an authenticator application", c.SECURITY_KEY: "a security key", c.BIOMETRICS: "biometrics"}


def message(key: str, **params) -> str:
    return MESSAGES[key].format(**params)


def kinds_phrase(kinds) -> str:
    """``kinds`` with their articles, in the canonical order: “an authenticator application, a
    security key or biometrics”."""
    names = [KIND_PHRASES[k] for k in c.AUTHENTICATOR_KINDS if k in kinds]
    if not names:
        return "no method"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
