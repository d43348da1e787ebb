"""mfagate's settings, typed, with their defaults — the one place code reads ``MFAGATE_*``.

``config/settings.py`` reads the environment once (django-environ) and sets ``MFAGATE_*``; code
reads them here, as properties, so a default is written once and a test's ``settings`` fixture
still takes effect. Impossible combinations are refused at start-up by the system checks
(:mod:`mfa_policies.checks`, :mod:`mfa_policies.access.checks`, :mod:`enrollment.checks`).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


class AppSettings:
    def _setting(self, name: str, default):
        return getattr(settings, f"MFAGATE_{name}", default)

    # -------------------------------------------------------------------------- deployment
    @property
    def SINGLE_PROCESS(self) -> bool:
        """The deployment runs exactly one process, so a per-process cache may carry revocations."""
        return bool(self._setting("SINGLE_PROCESS", False))

    # ----------------------------------------------------------------------------- sign-up
    @property
    def OPEN_SIGNUP(self) -> bool:
        """Local self sign-up; closed by default (admins create accounts)."""
        return bool(self._setting("OPEN_SIGNUP", False))

    @property
    def ENTERPRISE_SIGNUP(self) -> bool:
        """Enterprise IdPs may provision users on their first sign-in."""
        return bool(self._setting("ENTERPRISE_SIGNUP", True))

    # ------------------------------------------------------------------------- app sessions
    @property
    def JWT_PRIVATE_KEY(self) -> bytes:
        """PEM of the EC P-256 key signing app-session JWTs; empty means generate one into
        :attr:`JWT_KEY_FILE` once."""
        value = self._setting("JWT_PRIVATE_KEY", "")
        return value.encode() if isinstance(value, str) else bytes(value or b"")

    @property
    def ALLOW_GENERATED_JWT_KEY(self) -> bool:
        """With ``DEBUG`` off, a key generated into :attr:`JWT_KEY_FILE` may sign (one host only:
        every host would generate its own)."""
        return bool(self._setting("ALLOW_GENERATED_JWT_KEY", False))

    @property
    def JWT_KEY_FILE(self) -> Path:
        return Path(self._setting("JWT_KEY_FILE", settings.BASE_DIR / "var" / "jwt-key.pem"))

    @property
    def JWT_ISSUER(self) -> str:
        return self._setting("JWT_ISSUER", "") or "http://localhost:8000"

    # ------------------------------------------------------------------------------ WebAuthn
    @property
    def WEBAUTHN_RP_ID(self) -> str:
        """The relying-party id: this site's host name (or a registrable suffix of it)."""
        return self._setting("WEBAUTHN_RP_ID", "localhost")

    @property
    def WEBAUTHN_RP_NAME(self) -> str:
        return self._setting("WEBAUTHN_RP_NAME", "mfagate")

    @property
    def WEBAUTHN_ORIGINS(self) -> list[str]:
        """The exact origins WebAuthn responses may come from."""
        return list(self._setting("WEBAUTHN_ORIGINS", ["http://localhost:8000"]))

    @property
    def WEBAUTHN_EXTRA_ROOT_CERTS(self) -> list[str]:
        """PEM certificates (or file paths) trusted for attestation besides the FIDO metadata."""
        return list(self._setting("WEBAUTHN_EXTRA_ROOT_CERTS", []))

    # ---------------------------------------------------------------------------------- TOTP
    @property
    def TOTP_ISSUER(self) -> str:
        """The issuer an authenticator application shows (django-otp's ``OTP_TOTP_ISSUER``)."""
        return getattr(settings, "OTP_TOTP_ISSUER", "mfagate") or "mfagate"


app_settings = AppSettings()
