"""Every message the enrollment portal and the verification API show a user, by key.

Code raises :class:`EnrollmentError` (or ``VerificationError``) with a key; the wording lives
here only, so the page, the JSON endpoints and the tests agree.
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # TOTP
    "totp_code_format": "Enter the 6-digit code from your authenticator application.",
    "totp_invalid_code": "That code is not valid. Check the time on your device and enter the current code.",
    "totp_replayed": "That code has already been used. Wait for the next code and enter it.",
    "totp_exists": (
        "You already have an authenticator application enrolled. You can only have one at a time: "
        "remove the existing one from MFA devices first, then enroll the new one."
    ),
    "totp_setup_expired": "The setup expired. Scan the new QR code and enter the code it shows.",
    "no_device": "You have no enrolled authenticator of this kind.",
    # Throttling
    "throttled": "Too many failed attempts. Wait {wait} and try again.",
    "locked": (
        "Too many failed attempts: MFA verification for this account is locked until {until}. "
        "Ask an administrator if you need access sooner."
    ),
    # WebAuthn
    "webauthn_malformed": "The browser's answer could not be read. Try again.",
    "webauthn_no_challenge": "This request has expired or was already used. Start again.",
    "webauthn_failed": "Your authenticator could not be verified: {detail}. Try again.",
    "webauthn_origin": "This page was not opened on the expected address. Open mfagate at its usual address and try again.",
    "webauthn_rp_id": "The authenticator answered for another site. Try again on this site.",
    "webauthn_unknown_credential": "This authenticator is not one of your enrolled MFA devices.",
    "webauthn_user_handle": "This authenticator belongs to another account.",
    "webauthn_uv_required": (
        "Biometrics need user verification (fingerprint, face or device PIN), and the authenticator "
        "did not verify you. Try again and complete the verification."
    ),
    "webauthn_backup_changed": "This authenticator's backup status changed since it was enrolled, so it cannot be trusted. Enroll it again.",
    "webauthn_sign_count": (
        "This authenticator's signature counter went backwards, which can mean it was cloned. "
        "It was refused; contact an administrator."
    ),
    "webauthn_already_registered": "This authenticator is already registered. Use another one or remove it first.",
    "webauthn_attachment_missing": "Your browser did not report what kind of authenticator this is. Try another browser.",
    "webauthn_attachment_security_key": (
        "You chose Security key, but your browser registered a built-in authenticator "
        "(platform). Choose Biometrics to enroll it."
    ),
    "webauthn_attachment_biometrics": (
        "You chose Biometrics, but your browser registered a removable security key "
        "(cross-platform). Choose Security key to enroll it."
    ),
    "aaguid_zero": (
        "This authenticator does not identify its model (its AAGUID is all zeros), and your "
        "organization accepts only approved authenticator models. Use an approved security key."
    ),
    "aaguid_not_allowed": (
        "This authenticator model ({aaguid}) is not on your organization's list of approved "
        "authenticators ({lists}). Use an approved authenticator."
    ),
    "attestation_unproven": (
        "This authenticator did not prove its model (attestation “{fmt}”), and your organization "
        "accepts only approved authenticator models. Use an approved security key."
    ),
    "attestation_untrusted": (
        "This authenticator's attestation is not signed by its maker's certificate from the FIDO "
        "metadata, so its model cannot be trusted. Use an approved authenticator."
    ),
    # Portal
    "kind_not_offered": "Your organizations do not allow this kind of MFA device.",
    "step_up_required": "Verify with one of your MFA devices first. Adding or removing a device needs a verification from the last 10 minutes.",
    "device_name": "Give the device a name of at most 64 characters.",
    # Admin console
    "admin_delete_not_allowed": "You do not have permission to delete other users' MFA devices.",
    "admin_deleted": "MFA device “{name}” of {email} deleted. Their other sessions must verify again.",
    "admin_no_devices": "No MFA devices. Share the enrollment link below so the user can add one.",
}


class EnrollmentError(Exception):
    """A refusal a user can act on. ``code`` is the key in :data:`MESSAGES`."""

    def __init__(self, code: str, **params):
        self.code = code
        self.params = params
        self.message = MESSAGES[code].format(**params) if params else MESSAGES[code]
        super().__init__(self.message)
