"""The one form for a code from an authenticator application, and the TOTP enrollment form."""

from __future__ import annotations

from django import forms

from . import totp
from .messages import MESSAGES


class CodeField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "6-digit code")
        kwargs.setdefault("max_length", 12)
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": r"[0-9 ]*", "autofocus": True}
        )

    def clean(self, value):
        value = super().clean(value)
        code = totp.normalize_code(value)
        if code is None:
            raise forms.ValidationError(MESSAGES["totp_code_format"])
        return code


class CodeForm(forms.Form):
    """A code from the user's authenticator application (step-up, the MFA challenge)."""

    code = CodeField()

    def __init__(self, *args, label: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["code"].label = label


class TotpEnrollForm(forms.Form):
    """The device's name first, then the code (the page asks in that order)."""

    name = forms.CharField(
        label="Device name", max_length=64, required=False,
        help_text="Optional, e.g. “Work phone”. Defaults to “Authenticator application”.",
    )
    code = CodeField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The person scans the QR code first: focusing the code field would scroll it away on a phone.
        self.fields["code"].widget.attrs.pop("autofocus", None)


class RecoveryCodeField(forms.CharField):
    """A recovery code as typed. Bounded here; checked by :func:`enrollment.recovery.use`, so a
    malformed code counts in the throttle like a wrong one. Django's own refusals (a NUL
    character, the length) are replaced by the one message about the format."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Recovery code")
        kwargs.setdefault("error_messages", {"required": MESSAGES["recovery_code_format"]})
        super().__init__(**kwargs)
        self.validators = []  # the NUL and length validators: the service answers those
        self.widget.attrs.update({"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                                  "autofocus": True, "maxlength": 64})

    def clean(self, value):
        value = super().clean(value)
        if len(value) > 64:
            raise forms.ValidationError(MESSAGES["recovery_code_format"])
        return value


class RecoveryCodeForm(forms.Form):
    """One of the user's recovery codes (the MFA challenge, the step-up page)."""

    code = RecoveryCodeField()
