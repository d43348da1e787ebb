"""The authenticator application's setup page as a person uses it (issue 11, end-user polish):
the setup key has a copy button that a script wires (its wording from the page, via
json_script), and the device's name is asked before the code."""

from __future__ import annotations

import json
import re

import pyotp
import pytest

from enrollment import totp
from enrollment.messages import MESSAGES
from enrollment.models import Authenticator
from enrollment.views import PENDING_TOTP_KEY
from tests.support.authenticators import code_at, enroll_totp

pytestmark = pytest.mark.django_db
ADD_TOTP = "/account/mfa-devices/add/totp/"


def _page(client, member):
    client.force_login(member)
    response = client.get(ADD_TOTP)
    assert response.status_code == 200
    return response, response.content.decode()


def test_the_copy_button_carries_the_whole_key_without_spaces(client, member, clock):
    response, page = _page(client, member)
    button = re.search(r'<button type="button"[^>]*id="copy-setup-key"[^>]*>([^<]*)</button>', page)
    assert button, "a copy button next to the setup key"
    assert button.group(1) == "Copy setup key"
    copied = re.search(r'data-copy="([A-Z2-7]+)"', button.group(0)).group(1)
    assert copied == "".join(response.context["setup_key"])
    key_hex = client.session[PENDING_TOTP_KEY]
    assert copied == totp.base32_secret(key_hex).rstrip("="), "the key the QR code holds"
    assert ' hidden' in button.group(0), "hidden until the script wires it: without a script it would do nothing"


def test_the_script_and_its_wording_reach_the_page(client, member, clock):
    _, page = _page(client, member)
    assert '<script src="/static/js/enrollment.js"></script>' in page
    handed = json.loads(re.search(r'<script id="mfagate-messages" type="application/json">(.*?)</script>',
                                  page, re.S).group(1))
    assert handed["browser_copied"] == MESSAGES["browser_copied"]
    assert handed["browser_copy_failed"] == MESSAGES["browser_copy_failed"]
    assert re.search(r'<p[^>]*id="copy-setup-key-status"[^>]*role="status"', page), "announced to screen readers"


def test_no_inline_script_only_the_json_data_block(client, member, clock):
    _, page = _page(client, member)
    scripts = re.findall(r"<script([^>]*)>", page)
    assert all('src="' in attrs or 'type="application/json"' in attrs for attrs in scripts), scripts


def test_the_device_name_comes_before_the_code(client, member, clock):
    response, page = _page(client, member)
    form = page[page.index("<form method=\"post\""):]
    assert form.index('name="name"') < form.index('name="code"')
    assert form.index('for="id_name"') < form.index('for="id_code"')
    assert list(response.context["form"].fields) == ["name", "code"]


def test_the_code_field_does_not_steal_the_focus_from_the_qr_code(client, member, clock):
    _, page = _page(client, member)
    code_input = re.search(r'<input[^>]*name="code"[^>]*>', page).group(0)
    assert "autofocus" not in code_input
    assert 'autocomplete="one-time-code"' in code_input and 'inputmode="numeric"' in code_input


def test_the_named_device_is_enrolled_with_that_name(client, member, clock):
    client.force_login(member)
    client.get(ADD_TOTP)
    otp = pyotp.TOTP(totp.base32_secret(client.session[PENDING_TOTP_KEY]))
    response = client.post(ADD_TOTP, {"name": "Work phone", "code": otp.at(clock.now.timestamp())})
    assert response.status_code == 302
    assert Authenticator.objects.get(user=member).name == "Work phone"


def test_a_too_long_name_is_shown_next_to_the_name_field(client, member, clock):
    client.force_login(member)
    client.get(ADD_TOTP)
    otp = pyotp.TOTP(totp.base32_secret(client.session[PENDING_TOTP_KEY]))
    response = client.post(ADD_TOTP, {"name": "x" * 65, "code": otp.at(clock.now.timestamp())})
    assert response.status_code == 200 and response.context["form"].errors["name"]
    assert not Authenticator.objects.exists()


def test_no_copy_button_or_script_when_a_totp_already_exists(client, member, clock):
    _, otp = enroll_totp(member)
    client.force_login(member)
    assert client.post("/account/mfa-devices/verify/", {"code": code_at(otp)}).status_code == 302
    page = client.get(ADD_TOTP).content.decode()
    assert MESSAGES["totp_exists"] in page
    assert "copy-setup-key" not in page and "enrollment.js" not in page
