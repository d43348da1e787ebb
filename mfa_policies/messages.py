"""Every user-facing message of enforcement and the MFA challenge, by key."""

from __future__ import annotations

MESSAGES = {
    "enroll_first": "“{app}” requires multi-factor authentication with {kinds}. Add one to continue.",
    "no_challenge": "There is nothing to verify right now. Open the application again.",
    "challenge_expired": "The verification took too long. Open the application again to start over.",
    "verified": "Verified with {kind}.",
    "kind_not_allowed": "That authenticator cannot be used for “{app}”. Use {kinds}.",
    "denied_help": "If you think you should have access, ask your administrator to check the access "
                   "policies of “{app}”. Signing in another way (for example through your company's "
                   "identity provider) may also change the decision.",
    "config_error": "“{app}” is misconfigured: an administrator must fix it before anyone can open it.",
}


def message(key: str, **params) -> str:
    return MESSAGES[key].format(**params)
