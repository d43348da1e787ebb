"""Start-up check: a WebAuthn RP id that does not match the origins would make every security key
and biometric unusable, so it is refused before the first request."""

from __future__ import annotations

import pytest

from enrollment.checks import webauthn_rp_id_matches_the_origins


@pytest.mark.parametrize("rp_id, origins", [
    ("localhost", ["http://localhost:8000"]),
    ("example.com", ["https://mfa.example.com", "https://example.com:8443"]),
    ("mfa.example.com", ["https://mfa.example.com"]),
])
def test_matching_rp_id_and_origins_pass(settings, rp_id, origins):
    settings.MFAGATE_WEBAUTHN_RP_ID, settings.MFAGATE_WEBAUTHN_ORIGINS = rp_id, origins
    assert webauthn_rp_id_matches_the_origins(None) == []


@pytest.mark.parametrize("rp_id, origins, says", [
    ("example.com", ["https://evil.test"], "is not on the relying party “example.com”"),
    ("example.com", ["https://notexample.com"], "is not on the relying party"),
    ("mfa.example.com", ["https://example.com"], "is not on the relying party"),
    ("example.com", ["http://mfa.example.com"], "plain http"),
    ("example.com", ["mfa.example.com"], "is not an origin"),
    ("example.com", ["https://mfa.example.com/login"], "is not an origin"),
    ("https://example.com", ["https://example.com"], "must be a host name"),
    ("example.com", [], "is empty"),
])
def test_impossible_rp_id_and_origins_are_refused(settings, rp_id, origins, says):
    settings.MFAGATE_WEBAUTHN_RP_ID, settings.MFAGATE_WEBAUTHN_ORIGINS = rp_id, origins
    errors = webauthn_rp_id_matches_the_origins(None)
    assert errors and {e.id for e in errors} == {"mfagate.E005"}
    assert any(says in e.msg for e in errors), [e.msg for e in errors]
