"""Every message the enrollment portal, the verification API and their scripts show a user, by key.

Code raises :class:`EnrollmentError` (or ``VerificationError``) with a key; the wording lives
here only, so the page, the JSON endpoints, the browser scripts (handed :func:`browser_messages`
through ``json_script``) and the tests agree. E-mails are templates in
``templates/enrollment/email/``.
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
    # In the browser, before or around a WebAuthn ceremony (static/js/webauthn.js, enrollment.js)
    "browser_unsupported": "This browser does not support security keys or biometrics. Use another method or browser.",
    "browser_server_unreachable": "The server could not be reached. Check your connection and try again.",
    "browser_server_unexpected": "The server answered unexpectedly ({status}). Try again.",
    "browser_cancelled": "The request was cancelled or timed out. Try again.",
    "browser_wrong_address": "This page's address cannot use security keys. Open mfagate at its usual address.",
    "browser_kind_not_supported": "This browser or device does not support this kind of authenticator.",
    "browser_failed": "Your browser could not complete the request: {detail}.",
    "browser_no_answer": "No authenticator answered. Try again.",
    "browser_incomplete": "The verification did not complete. Try again.",
    # The setup key's copy button (enrollment.js)
    "browser_copied": "Setup key copied. Paste it into your authenticator app.",
    "browser_copy_failed": "The browser did not allow copying. Select the key and copy it by hand.",
    # Portal
    "sign_in_first": "Sign in first.",
    "choose_webauthn_kind": "Choose Security key or Biometrics.",
    "totp_added": "Authenticator application added.",
    "webauthn_added": "{label} “{name}” added.",
    "device_removed": "“{name}” was removed from your MFA devices.",
    "device_remove_confirm": "Remove “{name}”?",
    "device_remove_consequence": (
        "You will no longer be able to verify with it. Your other browser sessions will have to verify again."
    ),
    "device_remove_last": (
        "This is your only MFA device: applications that require multi-factor authentication will ask "
        "you to add one before you can continue."
    ),
    "device_not_found": (
        "This MFA device is not one of yours, or it has already been removed. Nothing was changed."
    ),
    "kind_not_offered": "Your organizations do not allow this kind of MFA device.",
    "step_up_required": "Verify with one of your MFA devices first. Adding or removing a device needs a verification from the last 10 minutes.",
    "device_name": "Give the device a name of at most 64 characters.",
    # Sent here by an application (/AddMfaDevice?next=…)
    "enroll_for_app": "“{app}” accepts {kinds}: enroll one to open it.",
    "other_kinds_note": "“{app}” does not accept these: enrolling one will not let you in there.",
    "grace_left_sign_ins": "You can skip this {count} more {times}.",
    "grace_left_until": "You can skip this until {until}.",
    "grace_left_both": "You can skip this {count} more {times}, until {until} at the latest.",
    # Recovery codes (enrollment/recovery.py)
    "recovery_code_format": (
        "Enter one of your recovery codes: 16 letters and digits, such as ABCD-EFGH-JKMN-PQRS "
        "(dashes, spaces and case do not matter)."
    ),
    "recovery_code_invalid": (
        "That recovery code is not valid. Check it and try again; codes from before your latest "
        "set was generated no longer work."
    ),
    "recovery_code_used": "That recovery code has already been used. Each code works once: enter another one.",
    "recovery_codes_off": (
        "Recovery codes are turned off by {organizations}. If you have lost your MFA devices, "
        "ask your administrator to help you enroll a new one."
    ),
    "recovery_needs_authenticator": (
        "Add an MFA device first: recovery codes are a backup for your MFA devices, not a replacement for them."
    ),
    "recovery_codes_generated": "Your new recovery codes are below. Save them now: they are shown only once.",
    "recovery_code_accepted": (
        "Recovery code accepted ({remaining} left). Add a new MFA device now: a recovery code lets you "
        "change your MFA devices for 10 minutes, but it does not replace one."
    ),
    "recovery_copied": "Copied. Keep them somewhere safe, away from your MFA devices.",
    "recovery_copy_failed": "Your browser did not allow copying. Select the codes and copy them yourself.",
    # Admin console
    "admin_delete_not_allowed": "You do not have permission to delete other users' MFA devices.",
    "admin_deleted": "MFA device “{name}” of {email} deleted. Their other sessions must verify again.",
    "admin_no_devices": "No MFA devices. Share the enrollment link below so the user can add one.",
    "admin_label_command": "on the server, with manage.py mfa_reset_user",
    "admin_unlock_not_allowed": "You do not have permission to unlock other users' MFA verification.",
    "admin_unlocked": (
        "MFA verification of {email} unlocked ({failures} consecutive failed attempts cleared). "
        "They can verify again now."
    ),
    "admin_not_throttled": "MFA verification of {email} was not locked: nothing to unlock.",
    "admin_throttle_clear": "No failed verifications: the user can verify now.",
    "admin_throttle_waiting": "{failures} consecutive failed attempts. Next attempt allowed at {at}.",
    "admin_throttle_locked": "{failures} consecutive failed attempts: locked until {at}.",
    "admin_throttle_free": "{failures} consecutive failed attempts. The user can try again now; more failures lengthen the wait.",
}


#: What static/js/recovery-codes.js may say (handed over by the recovery codes page).
RECOVERY_BROWSER_KEYS = ("recovery_copied", "recovery_copy_failed")


def recovery_browser_messages() -> dict[str, str]:
    return {key: MESSAGES[key] for key in RECOVERY_BROWSER_KEYS}


BROWSER_KEYS = ("browser_unsupported", "browser_server_unreachable", "browser_server_unexpected",
                "browser_cancelled", "browser_wrong_address", "browser_kind_not_supported", "browser_failed",
                "browser_no_answer", "browser_incomplete", "webauthn_already_registered",
                "browser_copied", "browser_copy_failed")


def browser_messages() -> dict[str, str]:
    """What the scripts (WebAuthn, the setup key's copy button) may say, for ``json_script`` (placeholders such as ``{status}``
    are filled in by the script)."""
    return {key: MESSAGES[key] for key in BROWSER_KEYS}


def message(key: str, **params) -> str:
    return MESSAGES[key].format(**params) if params else MESSAGES[key]


class EnrollmentError(Exception):
    """A refusal a user can act on. ``code`` is the key in :data:`MESSAGES`."""

    def __init__(self, code: str, **params):
        self.code = code
        self.params = params
        self.message = MESSAGES[code].format(**params) if params else MESSAGES[code]
        super().__init__(self.message)
