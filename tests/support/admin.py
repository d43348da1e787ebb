"""Helpers for the admin console tests: signing an admin in past the Admin console's MFA, the
change form's POST data, and what a browser would post from any admin page."""

from __future__ import annotations

import re
from html.parser import HTMLParser


def into_admin(client, clock, email):
    """Sign ``email`` in and past the Admin console's MFA (enrolling a TOTP for them)."""
    from accounts.models import User
    from tests.support.authenticators import code_at, enroll_totp
    from tests.support.signin import sign_in

    _, otp = enroll_totp(User.objects.get(email=email), name="Admin phone")
    clock.advance(seconds=31)
    sign_in(client, email)
    challenge = client.get("/admin/")
    assert challenge["Location"].startswith("/mfa/verify/"), challenge.status_code
    assert client.post(challenge["Location"], {"code": code_at(otp)}).status_code == 302
    return client


def org_form(org, **changes):
    data = {
        "name": org.name, "auth_domain": org.auth_domain,
        "mfa_required_for_all_apps": "on" if org.mfa_required_for_all_apps else "",
        "allowed_authenticators": org.allowed_authenticators, "session_duration": org.session_duration,
        "amr_session_duration": org.amr_session_duration, "required_aaguids": "",
        "exempt_roles": [str(r.pk) for r in org.exempt_roles.all()],
        "exempt_connections": [str(x.pk) for x in org.exempt_connections.all()],
        "recovery_codes_enabled": "on" if org.recovery_codes_enabled else "",
        "enrollment_grace_until_0": org.enrollment_grace_until.strftime("%Y-%m-%d") if org.enrollment_grace_until else "",
        "enrollment_grace_until_1": org.enrollment_grace_until.strftime("%H:%M:%S") if org.enrollment_grace_until else "",
        "enrollment_grace_sign_ins": org.enrollment_grace_sign_ins if org.enrollment_grace_sign_ins is not None else "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def field_errors(response, field: str) -> str:
    """The HTML of ``field``'s row in the admin form of ``response``: where its refusals show."""
    html = response.content.decode()
    row = re.search(rf'<div class="form-row[^"]*\bfield-{field}\b', html)
    assert row is not None, f"no row for {field}"
    end = html.find('class="form-row', row.end())
    return html[row.start():end if end != -1 else len(html)]


class _FormReader(HTMLParser):
    """What a browser would submit from the admin's change form (``<form id="…_form">``): every
    named, enabled control with its current value; unchecked boxes and the inline's ``__prefix__``
    template row send nothing. ``kinds`` says which control each name came from."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.data: dict[str, list[str]] = {}
        self.kinds: dict[str, str] = {}
        self._in_form = False
        self._select: tuple[str, bool, list[str], list[str]] | None = None  # name, multiple, selected, all
        self._textarea: str | None = None
        self._text: list[str] = []

    def _keep(self, attrs: dict) -> bool:
        name = attrs.get("name")
        return bool(self._in_form and name and "__prefix__" not in name and "disabled" not in attrs
                    and name != "csrfmiddlewaretoken")

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("id") or "").endswith("_form"):
            self._in_form = True
        elif tag == "input" and self._keep(attrs):
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "reset", "file", "image"):
                return
            self.kinds.setdefault(attrs["name"], kind)
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                self.data.setdefault(attrs["name"], [])
                return
            self.data.setdefault(attrs["name"], []).append(attrs.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select" and self._keep(attrs):
            self._select = (attrs["name"], "multiple" in attrs, [], [])
            self.kinds[attrs["name"]] = "select-multiple" if "multiple" in attrs else "select"
        elif tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            self._select[3].append(value)
            if "selected" in attrs:
                self._select[2].append(value)
        elif tag == "textarea" and self._keep(attrs):
            self._textarea, self._text = attrs["name"], []
            self.kinds[attrs["name"]] = "textarea"

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form" and self._in_form:
            self._in_form = False
        elif tag == "select" and self._select is not None:
            name, multiple, selected, options = self._select
            if not selected and not multiple and options:
                selected = options[:1]  # a browser sends the first option of a single select
            self.data[name] = selected
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self.data[self._textarea] = [text.removeprefix("\n")]
            self._textarea = None


def form_fields(html: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The data a browser would post from the admin page ``html``, and each control's kind
    (``text``, ``hidden``, ``checkbox``, ``select``, ``select-multiple``, ``textarea``, …)."""
    reader = _FormReader()
    reader.feed(html)
    reader.close()
    return reader.data, reader.kinds
