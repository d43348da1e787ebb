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


class TotpEnrollForm(forms.Form):
    name = forms.CharField(
        label="Device name", max_length=64, required=False,
        help_text="Optional, e.g. “Work phone”. Defaults to “Authenticator application”.",
    )
    code = CodeField()


class StepUpTotpForm(forms.Form):
    code = CodeField()
