"""System checks of enrollment: WebAuthn settings no browser could satisfy are refused at start-up."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.checks import Error, register

from mfa_policies.app_settings import app_settings


def _origin_errors(rp_id: str, origin: str) -> list[str]:
    parts = urlsplit(origin)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host or parts.path not in ("", "/") or parts.query:
        return [f"“{origin}” is not an origin such as https://mfa.example.com"]
    problems = []
    if parts.scheme == "http" and host != "localhost" and not host.endswith(".localhost"):
        problems.append(f"“{origin}” is plain http: browsers allow WebAuthn only on https (or on localhost)")
    if host != rp_id and not host.endswith("." + rp_id):
        problems.append(f"“{origin}” is not on the relying party “{rp_id}”: its host must be {rp_id} or end with .{rp_id}")
    return problems


@register()
def webauthn_rp_id_matches_the_origins(app_configs, **kwargs):
    """Browsers refuse a WebAuthn ceremony whose RP id is not the origin's host (or a registrable
    suffix of it), so such a setting would make every security key and biometric unusable."""
    rp_id = (app_settings.WEBAUTHN_RP_ID or "").lower()
    origins = app_settings.WEBAUTHN_ORIGINS
    if not rp_id or "://" in rp_id or "/" in rp_id or ":" in rp_id:
        return [Error(f"MFAGATE_WEBAUTHN_RP_ID “{rp_id}” must be a host name such as mfa.example.com.",
                      id="mfagate.E005")]
    if not origins:
        return [Error("MFAGATE_WEBAUTHN_ORIGINS is empty, so no WebAuthn response could be accepted.",
                      hint="List the exact origins users open mfagate at, e.g. https://mfa.example.com.",
                      id="mfagate.E005")]
    return [
        Error(f"MFAGATE_WEBAUTHN_ORIGINS: {problem}.", hint="Set MFAGATE_WEBAUTHN_RP_ID to the site's host name "
              "and MFAGATE_WEBAUTHN_ORIGINS to the exact origins users open it at.", id="mfagate.E005")
        for origin in origins for problem in _origin_errors(rp_id, origin)
    ]
