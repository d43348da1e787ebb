"""Step-up before adding or removing MFA devices (seed 002, SECURITY rows 8-12, 14)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from enrollment.models import Authenticator
from enrollment.signals import authenticator_removed
from mfa_policies import constants as c
from tests.support.authenticators import code_at, enroll_totp

pytestmark = pytest.mark.django_db
STEP_UP = "/account/mfa-devices/verify/"


def _step_up(client, otp, next_url=""):
    return client.post(STEP_UP, {"code": code_at(otp), "next": next_url})


def test_first_enrollment_needs_no_step_up(client, member, clock):
    client.force_login(member)
    assert client.get("/AddMfaDevice").status_code == 200


def test_adding_with_a_device_enrolled_asks_for_step_up(client, member, clock):
    enroll_totp(member)
    client.force_login(member)
    response = client.get("/AddMfaDevice")
    assert response.status_code == 302 and response["Location"].startswith(STEP_UP)
    response = client.post("/account/mfa-devices/webauthn/register/options/", {"kind": c.SECURITY_KEY},
                           content_type="application/json")
    assert response.status_code == 403 and response.json()["ok"] is False


def test_step_up_rotates_the_session_key_and_opens_the_window(client, member, clock):
    _, otp = enroll_totp(member)
    client.force_login(member)
    before = client.session.session_key
    response = _step_up(client, otp, "/AddMfaDevice")
    assert response.status_code == 302 and response["Location"] == "/AddMfaDevice"
    assert client.session.session_key != before
    assert client.get("/AddMfaDevice").status_code == 200


def test_remove_inside_the_window_audits_signals_and_emails(client, member, clock, django_capture_on_commit_callbacks):
    authenticator, otp = enroll_totp(member)
    client.force_login(member)
    _step_up(client, otp)
    received = []
    authenticator_removed.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t")
    try:
        clock.advance(minutes=9, seconds=59)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("enrollment:remove", args=[authenticator.pk]))
    finally:
        authenticator_removed.disconnect(dispatch_uid="t")
    assert response.status_code == 302
    assert not Authenticator.objects.exists()
    event = AuditEvent.objects.get(action="authenticator.removed")
    assert event.actor == member and event.ip_address == "127.0.0.1"
    assert received and received[0]["authenticator_id"] == str(authenticator.pk)
    assert len(mail.outbox) == 1 and "removed" in mail.outbox[0].subject


def test_remove_after_ten_minutes_needs_a_new_verification(client, member, clock):
    authenticator, otp = enroll_totp(member)
    client.force_login(member)
    _step_up(client, otp)
    clock.advance(minutes=10, seconds=1)
    response = client.post(reverse("enrollment:remove", args=[authenticator.pk]))
    assert response.status_code == 302 and response["Location"].startswith(STEP_UP)
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()


def test_another_browser_session_needs_its_own_verification(client, member, clock):
    authenticator, otp = enroll_totp(member)
    client.force_login(member)
    _step_up(client, otp)
    other = Client()
    other.force_login(member)
    response = other.post(reverse("enrollment:remove", args=[authenticator.pk]))
    assert response["Location"].startswith(STEP_UP)
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()


def test_a_window_copied_into_another_session_does_not_count(client, member, clock):
    authenticator, otp = enroll_totp(member)
    client.force_login(member)
    _step_up(client, otp)
    state = client.session["mfagate.step_up"]
    other = Client()
    other.force_login(member)
    session = other.session
    session["mfagate.step_up"] = state
    session.save()
    response = other.post(reverse("enrollment:remove", args=[authenticator.pk]))
    assert response["Location"].startswith(STEP_UP)


def test_a_password_only_session_cannot_remove(client, member, clock):
    authenticator, _ = enroll_totp(member)
    client.force_login(member)
    client.post(reverse("enrollment:remove", args=[authenticator.pk]))
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()


def test_idp_amr_does_not_open_the_window(client, member, clock):
    authenticator, _ = enroll_totp(member)
    client.force_login(member)
    session = client.session
    session["mfagate.sign_in"] = {"connection": "okta", "amr": ["hwk", "mfa"], "at": clock.now.timestamp(),
                                  "signed_in_at": clock.now.timestamp(), "fresh": True}
    session.save()
    response = client.get("/AddMfaDevice")
    assert response["Location"].startswith(STEP_UP)


def test_another_users_device_id_is_404_and_nothing_is_deleted(client, member, make_user, clock):
    _, otp = enroll_totp(member)
    victim = make_user()
    theirs, _ = enroll_totp(victim)
    client.force_login(member)
    _step_up(client, otp)
    response = client.post(reverse("enrollment:remove", args=[theirs.pk]))
    assert response.status_code == 404
    assert Authenticator.objects.filter(pk=theirs.pk).exists()
    assert not AuditEvent.objects.filter(action="authenticator.removed").exists()


def test_remove_by_get_only_asks_to_confirm(client, member, clock):
    authenticator, otp = enroll_totp(member)
    client.force_login(member)
    _step_up(client, otp)
    response = client.get(reverse("enrollment:remove", args=[authenticator.pk]))
    assert response.status_code == 200 and "Remove “Phone”?" in response.content.decode()
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()


def test_a_wrong_step_up_code_is_shown_next_to_the_field(client, member, clock):
    _, otp = enroll_totp(member)
    client.force_login(member)
    wrong = "000000" if code_at(otp) != "000000" else "111111"
    response = client.post(STEP_UP, {"code": wrong})
    assert response.status_code == 200 and response.context["form"].errors["code"]
    assert "mfagate.step_up" not in client.session


def test_a_reused_step_up_code_is_refused(client, member, clock):
    _, otp = enroll_totp(member)
    client.force_login(member)
    code = code_at(otp)
    client.post(STEP_UP, {"code": code})
    other = Client()
    other.force_login(member)
    clock.advance(seconds=5)
    response = other.post(STEP_UP, {"code": code})
    assert "already been used" in response.context["form"].errors["code"][0]


def test_anonymous_users_go_to_sign_in_and_come_back(client, db):
    for path in ("/", "/AddMfaDevice", "/account/mfa-devices/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login")) and "next=" in response["Location"]


def test_anonymous_json_endpoints_say_sign_in(client, db):
    for path in ("/account/mfa-devices/webauthn/register/options/", "/account/mfa-devices/verify/webauthn/options/"):
        response = client.post(path, "{}", content_type="application/json")
        assert response.status_code == 401 and response.json()["ok"] is False


def test_a_removal_in_one_browser_closes_the_step_up_window_of_another(member, clock):
    """Whoever opened the other window may hold the authenticator that was just removed."""
    first, otp = enroll_totp(member)
    spare, _ = _enroll_spare_key(member)
    mine, theirs = Client(), Client()
    for browser in (mine, theirs):
        browser.force_login(member)
        clock.advance(seconds=31)
        assert _step_up(browser, otp).status_code == 302
    assert mine.post(f"/account/mfa-devices/{spare.pk}/remove/").status_code == 302
    assert mine.get("/AddMfaDevice").status_code == 200, "the remover's own window stays open"
    response = theirs.get("/AddMfaDevice")
    assert response.status_code == 302 and response["Location"].startswith(STEP_UP)
    assert theirs.post(f"/account/mfa-devices/{first.pk}/remove/").status_code in (302, 403)
    assert Authenticator.objects.filter(pk=first.pk).exists()


def _enroll_spare_key(user):
    """A second device to remove: a WebAuthn credential from the software authenticator."""
    from tests.support.authenticators import enroll_webauthn
    from tests.support.webauthn_fakes import FakeAuthenticator

    return enroll_webauthn(user, FakeAuthenticator()), None
