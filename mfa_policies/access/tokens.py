"""Signed access tokens (JWT) for app sessions — the only module that imports ``jwt``.

Each app session carries an ES256 JWT (spec §3.4):

- header: ``alg=ES256``, ``typ=JWT``, ``kid`` = the RFC 7638 thumbprint of the public key;
- ``iss``: setting ``MFAGATE_JWT_ISSUER`` (default ``http://localhost:8000``);
- ``sub``: the user's id (UUID); ``email``;
- ``aud``: ``urn:mfagate:app:<application id>`` (see :func:`audience_for`) — ids, not names, so
  renaming an application does not change who may accept its tokens;
- ``iat``, ``exp`` (the app session's expiry), ``jti``;
- ``amr``: the IdP's values for this sign-in, plus the independent-MFA method used (``otp`` for
  totp, ``hwk`` for security keys and biometrics) and ``mfa`` when independent MFA was done.

The signing key comes from setting ``MFAGATE_JWT_PRIVATE_KEY`` (PEM), else from
``var/jwt-key.pem``, generated once (mode 0600). :func:`jwks` publishes the public key.
:func:`verify_access_token` pins the algorithm, the key, ``aud`` and ``iss`` and checks ``exp``
against mfagate's clock.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import threading
import uuid
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mfa_policies.app_settings import app_settings
from mfa_policies import clock
from mfa_policies.constants import KIND_TO_JWT_AMR

ALGORITHM = "ES256"


class TokenError(Exception):
    """A token that must not be accepted; the message says why."""


@dataclass(frozen=True)
class SigningKey:
    private_key: ec.EllipticCurvePrivateKey
    kid: str
    public_jwk: dict


_lock = threading.Lock()
_key: SigningKey | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _load_or_create_pem() -> bytes:
    configured = app_settings.JWT_PRIVATE_KEY
    if configured:
        return configured
    path = app_settings.JWT_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:  # O_EXCL: two processes starting together keep the first one's key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
    return path.read_bytes()


def load_private_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    """The EC P-256 private key in ``pem``; ``TokenError`` saying what is wrong otherwise."""
    try:
        private = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise TokenError(f"MFAGATE_JWT_PRIVATE_KEY is not a readable unencrypted PEM private key ({exc})") from None
    if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1":
        raise TokenError("MFAGATE_JWT_PRIVATE_KEY must be an EC P-256 private key (ES256)")
    return private


def signing_key() -> SigningKey:
    global _key
    if _key is not None:
        return _key
    with _lock:
        if _key is None:
            private = load_private_key(_load_or_create_pem())
            public_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
            thumbprint_input = json.dumps(
                {k: public_jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True
            )
            kid = _b64(hashlib.sha256(thumbprint_input.encode()).digest())
            public_jwk.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
            _key = SigningKey(private_key=private, kid=kid, public_jwk=public_jwk)
    return _key


def reset_key_cache() -> None:
    """Forget the loaded key (tests that change the key setting)."""
    global _key
    with _lock:
        _key = None


def issuer() -> str:
    return app_settings.JWT_ISSUER


def audience_for(application_id: int) -> str:
    return f"urn:mfagate:app:{application_id}"


def token_amr(idp_amr, mfa_kind: str | None) -> list[str]:
    """The ``amr`` claim: the IdP's values, then the local method and ``mfa`` (no duplicates)."""
    values = list(dict.fromkeys(idp_amr))
    if mfa_kind:
        for extra in (KIND_TO_JWT_AMR[mfa_kind], "mfa"):
            if extra not in values:
                values.append(extra)
    return values


def issue_access_token(*, user, application_id: int, issued_at: dt.datetime, expires_at: dt.datetime,
                       idp_amr=(), mfa_kind: str | None = None) -> tuple[str, dict]:
    """Sign a token for one app session; returns ``(token, claims)``."""
    key = signing_key()
    claims = {
        "iss": issuer(),
        "sub": str(user.pk),
        "email": user.email,
        "aud": audience_for(application_id),
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": uuid.uuid4().hex,
        "amr": token_amr(idp_amr, mfa_kind),
    }
    token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
    return token, claims


def jwks() -> dict:
    """The JWKS document served at ``/.well-known/jwks.json``."""
    return {"keys": [signing_key().public_jwk]}


def verify_access_token(token: str, audience: str) -> dict:
    """Verify ``token`` for ``audience`` and return its claims, or raise :class:`TokenError`.

    Only ES256 with mfagate's key is accepted (``alg: none``, HS256 keyed with the public key and
    any other algorithm are refused); ``kid``, ``iss`` and ``aud`` must match; ``exp`` is compared
    with :func:`mfa_policies.clock.now`.
    """
    key = signing_key()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenError(f"malformed token: {exc}") from exc
    if header.get("alg") != ALGORITHM:
        raise TokenError(f"algorithm {header.get('alg')!r} is not accepted")
    if header.get("kid") != key.kid:
        raise TokenError("unknown key id")
    try:
        claims = jwt.decode(
            token, key.private_key.public_key(), algorithms=[ALGORITHM], audience=audience, issuer=issuer(),
            options={"require": ["iss", "sub", "aud", "iat", "exp"], "verify_exp": False, "verify_iat": False,
                     "verify_nbf": False},
        )
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= clock.now().timestamp():
        raise TokenError("the token has expired")
    return claims
