"""A software authenticator for tests: builds WebAuthn registration and assertion responses
(the JSON a browser posts) without a browser.

    key = FakeAuthenticator(attachment="cross-platform")
    response = key.register(options, origin="http://localhost:8000")   # options from the server
    assertion = key.assert_(options, origin=...)

Every field a test may want to corrupt is a keyword argument (``origin``, ``rp_id``,
``challenge``, ``uv``, ``fmt``, ``aaguid``, ``sign_count`` ...), so a test starts from a valid
response and changes one thing.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import struct

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
AAGUID_OID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _name(cn: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Vendor"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Authenticator Attestation"),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


class AttestationAuthority:
    """A vendor root CA that issues attestation certificates."""

    def __init__(self, cn: str = "Test Vendor Root"):
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def issue(self, aaguid: bytes | None) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name("Batch Certificate")).issuer_name(self.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if aaguid is not None:
            builder = builder.add_extension(
                x509.UnrecognizedExtension(AAGUID_OID, b"\x04\x10" + aaguid), critical=False
            )
        return key, builder.sign(self.key, hashes.SHA256())


def _cose(public_key: ec.EllipticCurvePublicKey) -> bytes:
    numbers = public_key.public_numbers()
    return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})


class FakeAuthenticator:
    """One credential on a software authenticator."""

    def __init__(self, *, attachment: str = "cross-platform", aaguid: str = "01020304050607080102030405060708",
                 transports=("usb",), authority: AttestationAuthority | None = None):
        self.attachment = attachment
        self.aaguid = bytes.fromhex(aaguid)
        self.transports = list(transports)
        self.authority = authority
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0
        self.user_handle: bytes | None = None

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def _client_data(self, kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}).encode()

    def register(self, options: dict, *, origin: str, rp_id: str | None = None, challenge: str | None = None,
                 fmt: str = "none", uv: bool = True, up: bool = True, be: bool = False, bs: bool = False,
                 aaguid: str | None = None, attachment: str | None = "default", client_type: str = "webauthn.create",
                 credential_id: bytes | None = None, cert_aaguid: str | None = "same") -> dict:
        """A ``navigator.credentials.create()`` response to ``options``.

        ``fmt``: ``none``, ``packed-self`` or ``packed`` (x5c from ``self.authority``).
        """
        if credential_id is not None:
            self.credential_id = credential_id
        rp_id = rp_id or options["rp"]["id"]
        challenge = challenge or options["challenge"]
        self.user_handle = unb64url(options["user"]["id"])
        aaguid_bytes = bytes.fromhex(aaguid) if aaguid is not None else self.aaguid
        self.sign_count = 1
        flags = AT | (UP if up else 0) | (UV if uv else 0) | (BE if be else 0) | (BS if bs else 0)
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", self.sign_count)
            + aaguid_bytes + struct.pack(">H", len(self.credential_id)) + self.credential_id
            + _cose(self.key.public_key())
        )
        client_data = self._client_data(client_type, challenge, origin)
        to_sign = auth_data + hashlib.sha256(client_data).digest()
        if fmt == "none":
            att_stmt, fmt_name = {}, "none"
        elif fmt == "packed-self":
            att_stmt, fmt_name = {"alg": -7, "sig": self.key.sign(to_sign, ec.ECDSA(hashes.SHA256()))}, "packed"
        elif fmt == "packed":
            authority = self.authority or AttestationAuthority()
            cert_aaguid_bytes = aaguid_bytes if cert_aaguid == "same" else (
                bytes.fromhex(cert_aaguid) if cert_aaguid else None)
            att_key, att_cert = authority.issue(cert_aaguid_bytes)
            att_stmt = {
                "alg": -7,
                "sig": att_key.sign(to_sign, ec.ECDSA(hashes.SHA256())),
                "x5c": [att_cert.public_bytes(serialization.Encoding.DER)],
            }
            fmt_name = "packed"
        else:
            raise ValueError(fmt)
        attestation_object = cbor2.dumps({"fmt": fmt_name, "attStmt": att_stmt, "authData": auth_data})
        response = {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation_object),
                "transports": self.transports,
            },
            "clientExtensionResults": {},
        }
        attach = self.attachment if attachment == "default" else attachment
        if attach is not None:
            response["authenticatorAttachment"] = attach
        return response

    def assert_(self, options: dict, *, origin: str, rp_id: str | None = None, challenge: str | None = None,
                uv: bool = True, up: bool = True, be: bool = False, bs: bool = False, sign_count: int | None = None,
                user_handle: bytes | None | str = "default", client_type: str = "webauthn.get",
                credential_id: str | None = None) -> dict:
        """A ``navigator.credentials.get()`` response to ``options``."""
        rp_id = rp_id or options["rpId"]
        challenge = challenge or options["challenge"]
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        flags = (UP if up else 0) | (UV if uv else 0) | (BE if be else 0) | (BS if bs else 0)
        auth_data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", self.sign_count)
        client_data = self._client_data(client_type, challenge, origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        handle = self.user_handle if user_handle == "default" else user_handle
        cid = credential_id or self.id
        return {
            "id": cid,
            "rawId": cid,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(handle) if handle else None,
            },
            "authenticatorAttachment": self.attachment,
            "clientExtensionResults": {},
        }


class SelfSignedBatch:
    """Like Chromium's virtual authenticator: one attestation key, and a fresh self-signed
    certificate (same subject, new signature) at every registration."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.pem = self._cert().public_bytes(serialization.Encoding.PEM).decode()

    def _cert(self, aaguid: bytes | None = None) -> x509.Certificate:
        now = dt.datetime.now(dt.timezone.utc)
        return (
            x509.CertificateBuilder()
            .subject_name(_name("Batch Certificate")).issuer_name(_name("Batch Certificate"))
            .public_key(self.key.public_key()).serial_number(1)
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def issue(self, aaguid: bytes | None):
        return self.key, self._cert(aaguid)
