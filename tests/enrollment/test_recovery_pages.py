"""The portal's recovery codes page, and "Use a recovery code" at the step-up page."""

from __future__ import annotations

import re

import pytest

from accounts.models import AuditEvent
from enrollment import recovery, throttle
from enrollment.messages import MESSAGES
from enrollment.models import RecoveryCode
from tests.support.authenticators import code_at, enroll_totp

pytestmark = pytest.mark.django_db
PAGE = "/account/recovery-codes/"
GENERATE = "/account/recovery-codes/generate/"
STEP_UP = "/account/mfa-devices/verify/"
STEP_UP_RECOVERY = "/account/mfa-devices/verify/recovery/"
CODE = re.compile(r"<code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code>")


def _signed_in_with_totp(client, user):
    _, otp = enroll_totp(user)
    client.force_login(user)
    return otp


def _generate(client, otp):
    client.post(STEP_UP, {"code": code_at(otp)})
    response = client.post(GENERATE)
    assert response.status_code == 200, response.content[:300]
    return CODE.findall(response.content.decode()), response


def test_the_page_offers_to_generate_and_the_launcher_links_it(client, member, clock):
    _signed_in_with_totp(client, member)
    page = client.get(PAGE).content.decode()
    assert "<h1>Recovery codes</h1>" in page and "You have not generated recovery codes yet." in page
    assert "Generate recovery codes</button>" in page and "Regenerate" not in page
    launcher = client.get("/").content.decode()
    assert "none generated yet" in launcher and 'href="/account/recovery-codes/"' in launcher


def test_generating_without_the_step_up_window_sends_to_verify_first(client, member, clock):
    _signed_in_with_totp(client, member)
    response = client.post(GENERATE)
    assert response.status_code == 302
    assert response["Location"] == "/account/mfa-devices/verify/?next=%2Faccount%2Frecovery-codes%2F"
    assert not RecoveryCode.objects.exists()


def test_the_codes_are_shown_once_never_cached_then_only_counted(client, member, clock):
    otp = _signed_in_with_totp(client, member)
    codes, response = _generate(client, otp)
    assert len(codes) == 10
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert MESSAGES["recovery_codes_generated"] in body
    assert 'id="mfagate-recovery-text"' in body and "mfagate recovery codes for" in body
    assert "<script>" not in body.replace('<script src=', ''), "no inline script (CSP)"
    assert 'src="/static/js/recovery-codes.js"' in body
    again = client.get(PAGE).content.decode()
    assert not any(code in again for code in codes)
    assert "<strong>10 of 10</strong> recovery codes left." in again
    assert "Regenerate recovery codes</button>" in again and "stop working at once" in again
    assert not any(code in client.get("/").content.decode() for code in codes)


def test_a_page_with_no_device_says_to_add_one_first(client, member, clock):
    client.force_login(member)
    page = client.get(PAGE).content.decode()
    assert "Add an MFA device first" in page and "Generate recovery codes</button>" not in page
    response = client.post(GENERATE, follow=True)
    assert MESSAGES["recovery_needs_authenticator"] in response.content.decode()
    assert not RecoveryCode.objects.exists()


def test_the_page_explains_when_an_organization_turned_codes_off(client, member, make_org, make_member, clock):
    otp = _signed_in_with_totp(client, member)
    make_member(member, make_org(name="Strict", recovery_codes_enabled=False))
    page = client.get(PAGE).content.decode()
    assert "Recovery codes are turned off by your organization “Strict”" in page
    assert "Generate recovery codes</button>" not in page
    client.post(STEP_UP, {"code": code_at(otp)})
    response = client.post(GENERATE, follow=True)
    assert "turned off by your organization “Strict”" in response.content.decode()
    assert not RecoveryCode.objects.exists()
    assert "turned off" in client.get("/").content.decode()


def test_the_page_never_lists_a_code_after_regenerating(client, member, clock):
    otp = _signed_in_with_totp(client, member)
    first, _ = _generate(client, otp)
    second, response = _generate(client, otp)
    assert set(first).isdisjoint(second)
    assert "The codes you had before no longer work." in response.content.decode()


# ----------------------------------------------------------------------- step-up by code
def test_the_step_up_page_offers_a_recovery_code_once_codes_exist(client, member, clock):
    otp = _signed_in_with_totp(client, member)
    assert "Use a recovery code" not in client.get(STEP_UP).content.decode()
    _generate(client, otp)
    page = client.get(STEP_UP + "?next=/account/mfa-devices/").content.decode()
    assert 'href="/account/mfa-devices/verify/recovery/?next=%2Faccount%2Fmfa-devices%2F"' in page


def test_a_recovery_code_at_the_step_up_page_opens_the_window(client, member, clock):
    from django.test import Client

    otp = _signed_in_with_totp(client, member)
    codes, _ = _generate(client, otp)
    browser = Client()
    browser.force_login(member)
    assert browser.get("/AddMfaDevice").status_code == 302, "no window in this browser yet"
    form = browser.get(STEP_UP_RECOVERY + "?next=/account/mfa-devices/")
    assert form.status_code == 200 and "<h1>Use a recovery code</h1>" in form.content.decode()
    done = browser.post(STEP_UP_RECOVERY, {"code": codes[0].lower(), "next": "/account/mfa-devices/"})
    assert done.status_code == 302 and done["Location"] == "/account/mfa-devices/"
    shown = browser.get("/account/mfa-devices/").content.decode()
    assert "Recovery code accepted (9 left)" in shown
    assert browser.get("/AddMfaDevice").status_code == 200
    assert recovery.remaining(member) == 9


def test_without_next_the_step_up_code_leads_to_adding_a_device(client, member, clock):
    otp = _signed_in_with_totp(client, member)
    codes, _ = _generate(client, otp)
    done = client.post(STEP_UP_RECOVERY, {"code": codes[0]})
    assert done["Location"] == "/AddMfaDevice"


def test_the_step_up_code_refuses_an_outside_next(client, member, clock):
    otp = _signed_in_with_totp(client, member)
    codes, _ = _generate(client, otp)
    done = client.post(STEP_UP_RECOVERY, {"code": codes[0], "next": "//evil.example/"})
    assert done["Location"] == "/AddMfaDevice"


@pytest.mark.parametrize("hostile", ["", "x" * 65, "x" * 300_000, "ABCD-EFGH-JKMN-PQR\x00", "ＡＢＣＤ-ＥＦＧＨ-ＪＫＭＮ-ＰＱＲＳ",
                                     "ZZZZ-ZZZZ-ZZZZ-ZZZY"])
def test_hostile_codes_at_the_step_up_page_get_a_message_next_to_the_field(client, member, clock, hostile):
    otp = _signed_in_with_totp(client, member)
    _generate(client, otp)
    response = client.post(STEP_UP_RECOVERY, {"code": hostile})
    assert response.status_code == 400
    body = response.content.decode()
    error = re.search(r'<ul class="errorlist" role="alert"><li>(.*?)</li>', body)
    assert error and error.group(1) in {MESSAGES["recovery_code_format"], MESSAGES["recovery_code_invalid"]}
    assert recovery.remaining(member) == 10


def test_a_form_refusal_before_the_service_is_not_counted_but_a_bad_code_is(client, member, clock):
    otp = _signed_in_with_totp(client, member)
    _generate(client, otp)
    client.post(STEP_UP_RECOVERY, {"code": "x" * 65})  # bounded by the form: never reaches the service
    assert throttle.state_of(member).is_clear
    client.post(STEP_UP_RECOVERY, {"code": "ZZZZ-ZZZZ-ZZZZ-ZZZY"})
    client.post(STEP_UP_RECOVERY, {"code": "short"})
    assert throttle.state_of(member).consecutive_failures == 2
    assert AuditEvent.objects.filter(action="recovery_code.rejected").count() == 2


def test_the_step_up_code_is_refused_where_an_organization_turned_codes_off(client, member, make_org, make_member,
                                                                            clock):
    otp = _signed_in_with_totp(client, member)
    codes, _ = _generate(client, otp)
    make_member(member, make_org(name="Strict", recovery_codes_enabled=False))
    assert "Use a recovery code" not in client.get(STEP_UP).content.decode()
    page = client.post(STEP_UP_RECOVERY, {"code": codes[0]})
    assert page.status_code == 200 and "turned off by your organization “Strict”" in page.content.decode()
    assert recovery.remaining(member) == 10
