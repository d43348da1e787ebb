"""The app session's JWT: claims, JWKS, and the attacks verify_access_token must refuse (row 20)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mfa_policies.access import tokens
from tests.support.authenticators import code_at, enroll_totp
from tests.support.signin import sign_in


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def token_for_demo(client, clock, demo):
    from accounts.models import User

    _, otp = enroll_totp(User.objects.get(email="other@demo.test"))
    sign_in(client, "other@demo.test")
    client.get("/demo/a/")
    clock.advance(seconds=31)
    client.post("/mfa/verify/", {"code": code_at(otp)})
    access = client.get("/demo/a/").wsgi_request.access
    return access


def test_app_session_token_carries_the_claims(token_for_demo, clock):
    access = token_for_demo
    claims = tokens.verify_access_token(access.token, tokens.audience_for(access.application.id))
    assert claims == access.claims
    assert claims["email"] == "other@demo.test"
    assert claims["aud"] == f"urn:mfagate:app:{access.application.id}"
    assert claims["iss"] == tokens.issuer()
    assert claims["amr"] == ["otp", "mfa"]
    assert claims["exp"] - claims["iat"] == 24 * 3600
    header = jwt.get_unverified_header(access.token)
    assert header["alg"] == "ES256" and header["kid"] == tokens.signing_key().kid


def test_demo_page_shows_the_decoded_claims(client, token_for_demo):
    page = client.get("/demo/a/").content.decode()
    assert "&quot;amr&quot;" in page and "other@demo.test" in page and "Decision trail" in page


def test_jwks_verifies_the_token(client, token_for_demo):
    document = client.get("/.well-known/jwks.json").json()
    [key] = document["keys"]
    assert key["kid"] == tokens.signing_key().kid and "d" not in key
    public = jwt.PyJWK(key).key
    claims = jwt.decode(token_for_demo.token, public, algorithms=["ES256"],
                        audience=tokens.audience_for(token_for_demo.application.id), options={"verify_exp": False, "verify_iat": False})
    assert claims["sub"] == token_for_demo.claims["sub"]


def test_wrong_audience_is_refused(token_for_demo):
    with pytest.raises(tokens.TokenError):
        tokens.verify_access_token(token_for_demo.token, tokens.audience_for(token_for_demo.application.id + 1))


def test_expired_token_is_refused(token_for_demo, clock):
    clock.advance(hours=24, seconds=1)
    with pytest.raises(tokens.TokenError, match="expired"):
        tokens.verify_access_token(token_for_demo.token, tokens.audience_for(token_for_demo.application.id))


def _forge(claims: dict, header: dict, sign) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


def test_alg_none_is_refused(token_for_demo):
    forged = _forge(token_for_demo.claims, {"alg": "none", "typ": "JWT", "kid": tokens.signing_key().kid}, lambda m: b"")
    with pytest.raises(tokens.TokenError):
        tokens.verify_access_token(forged, token_for_demo.claims["aud"])


def test_hs256_keyed_with_the_public_key_is_refused(token_for_demo):
    public_pem = tokens.signing_key().private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "typ": "JWT", "kid": tokens.signing_key().kid}
    forged = _forge(token_for_demo.claims, header, lambda m: hmac.new(public_pem, m, hashlib.sha256).digest())
    with pytest.raises(tokens.TokenError):
        tokens.verify_access_token(forged, token_for_demo.claims["aud"])


def test_another_key_is_refused_even_with_our_kid(token_for_demo):
    other = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(token_for_demo.claims, other, algorithm="ES256", headers={"kid": tokens.signing_key().kid})
    with pytest.raises(tokens.TokenError):
        tokens.verify_access_token(forged, token_for_demo.claims["aud"])


def test_rs256_is_refused(token_for_demo):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(token_for_demo.claims, other, algorithm="RS256", headers={"kid": tokens.signing_key().kid})
    with pytest.raises(tokens.TokenError):
        tokens.verify_access_token(forged, token_for_demo.claims["aud"])


def test_wrong_issuer_is_refused(token_for_demo):
    claims = {**token_for_demo.claims, "iss": "https://evil.example"}
    forged = jwt.encode(claims, tokens.signing_key().private_key, algorithm="ES256",
                        headers={"kid": tokens.signing_key().kid})
    with pytest.raises(tokens.TokenError):
        tokens.verify_access_token(forged, claims["aud"])


def test_tampered_claims_are_refused(token_for_demo):
    header, payload, signature = token_for_demo.token.split(".")
    claims = {**token_for_demo.claims, "email": "admin@demo.test"}
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(tokens.TokenError):
        tokens.verify_access_token(forged, claims["aud"])


def test_token_amr_adds_the_local_method_and_mfa():
    assert tokens.token_amr(["pwd"], "totp") == ["pwd", "otp", "mfa"]
    assert tokens.token_amr(["pwd", "hwk"], "biometrics") == ["pwd", "hwk", "mfa"]
    assert tokens.token_amr(["pwd", "otp"], None) == ["pwd", "otp"]


def test_configured_private_key_is_used(settings):
    key = ec.generate_private_key(ec.SECP256R1())
    settings.MFAGATE_JWT_PRIVATE_KEY = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    tokens.reset_key_cache()
    try:
        assert tokens.jwks()["keys"][0]["x"] == json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))["x"]
    finally:
        tokens.reset_key_cache()


def test_generated_key_file_is_private(settings, tmp_path):
    settings.MFAGATE_JWT_PRIVATE_KEY = ""
    settings.MFAGATE_JWT_KEY_FILE = tmp_path / "jwt-key.pem"
    tokens.reset_key_cache()
    try:
        tokens.signing_key()
        assert (tmp_path / "jwt-key.pem").stat().st_mode & 0o777 == 0o600
    finally:
        tokens.reset_key_cache()
