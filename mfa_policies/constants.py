"""Names from the seeds, used everywhere: models, resolver, API, UI."""

TOTP = "totp"
SECURITY_KEY = "security_key"
BIOMETRICS = "biometrics"

# Canonical order, used whenever kinds are listed.
AUTHENTICATOR_KINDS = (TOTP, SECURITY_KEY, BIOMETRICS)
AUTHENTICATOR_LABELS = {
    TOTP: "Authenticator application",
    SECURITY_KEY: "Security key",
    BIOMETRICS: "Biometrics",
}
AUTHENTICATOR_CHOICES = [(k, AUTHENTICATOR_LABELS[k]) for k in AUTHENTICATOR_KINDS]

# RFC 8176 values that count as a kind (seed 002 "Supported AMR values"). Matching is exact:
# RFC 8176 values are case-sensitive, so "HWK" is not "hwk".
AMR_TO_KIND = {
    "hwk": SECURITY_KEY,
    "swk": SECURITY_KEY,
    "otp": TOTP,
    "face": BIOMETRICS,
    "fpt": BIOMETRICS,
    "iris": BIOMETRICS,
    "retina": BIOMETRICS,
    "vbm": BIOMETRICS,
}
# The amr values mfagate adds to an app session's JWT for the local method used (spec §3.4).
KIND_TO_JWT_AMR = {TOTP: "otp", SECURITY_KEY: "hwk", BIOMETRICS: "hwk"}

MODE_INHERIT = "inherit"
MODE_CUSTOM = "custom"
MODE_DISABLED = "disabled"
MFA_MODE_CHOICES = [
    (MODE_INHERIT, "Respect global enforcement setting"),
    (MODE_CUSTOM, "Custom MFA settings"),
    (MODE_DISABLED, "Disable MFA"),
]

ENV_NO = "no"
ENV_YES = "yes"
ENV_OPTIONAL = "optional"
ENV_REQUIREMENT_CHOICES = [(ENV_NO, "No"), (ENV_YES, "Yes"), (ENV_OPTIONAL, "Optional")]

ALLOW = "allow"
DENY = "deny"
BYPASS = "bypass"
DECISION_CHOICES = [(ALLOW, "Allow"), (DENY, "Deny"), (BYPASS, "Bypass")]

SELECTOR_EVERYONE = "everyone"
SELECTOR_EMAIL = "email"
SELECTOR_EMAIL_DOMAIN = "email_domain"
SELECTOR_ROLE = "role"
SELECTOR_CONNECTION = "connection"
SELECTOR_AUTH_METHOD = "auth_method"
SELECTORS = (
    SELECTOR_EVERYONE,
    SELECTOR_EMAIL,
    SELECTOR_EMAIL_DOMAIN,
    SELECTOR_ROLE,
    SELECTOR_CONNECTION,
    SELECTOR_AUTH_METHOD,
)

CONNECTION_PASSWORD = "password"
CONNECTION_EMAIL_OTP = "email_otp"
CONNECTION_OIDC = "oidc"
CONNECTION_SAML = "saml"
CONNECTION_KIND_CHOICES = [
    (CONNECTION_PASSWORD, "Password"),
    (CONNECTION_EMAIL_OTP, "One-time PIN by email"),
    (CONNECTION_OIDC, "OpenID Connect (enterprise)"),
    (CONNECTION_SAML, "SAML (enterprise)"),
]
ENTERPRISE_CONNECTION_KINDS = (CONNECTION_OIDC, CONNECTION_SAML)

DEFAULT_DURATION = "24h"
