"""Removing an MFA device asks to confirm first, on a page of its own that needs no script, and
both the question and the message afterwards name the device (issue 11, end-user polish).

Hostile input: another user's device, an id that is not one, the confirmation sent twice, a
post without its CSRF token, a window that closed in between — each gets a page that says what
happened, nothing is removed (or nothing more), and never a 500."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from enrollment.messages import MESSAGES
from enrollment.models import Authenticator
from tests.support.authenticators import code_at, enroll_totp, enroll_webauthn
from tests.support.webauthn_fakes import FakeAuthenticator

pytestmark = pytest.mark.django_db
STEP_UP = "/account/mfa-devices/verify/"


def _url(device):
    return reverse("enrollment:remove", args=[device.pk])


@pytest.fixture
def yubikey(member):
    return enroll_webauthn(member, FakeAuthenticator(), name="YubiKey 5")


@pytest.fixture
def stepped_up(client, member, yubikey, clock):
    """``member`` signed in with a phone (TOTP) and a YubiKey, the step-up window open."""
    _, otp = enroll_totp(member, name="Phone")
    client.force_login(member)
    assert client.post(STEP_UP, {"code": code_at(otp)}).status_code == 302
    return client


def test_the_devices_list_offers_removal_as_a_link_to_the_confirmation(stepped_up, yubikey):
    page = stepped_up.get("/account/mfa-devices/").content.decode()
    assert f'href="{_url(yubikey)}"' in page
    assert f'action="{_url(yubikey)}"' not in page, "the list itself must not remove anything"


def test_the_confirmation_names_the_device_and_removes_nothing(stepped_up, yubikey):
    response = stepped_up.get(_url(yubikey))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Remove “YubiKey 5”?</h1>" in page
    assert MESSAGES["device_remove_consequence"] in page
    assert f'<form method="post" action="{_url(yubikey)}"' in page and "csrfmiddlewaretoken" in page
    assert "<script" not in page.split("</main>")[0].split("<main")[1], "the confirmation needs no script"
    assert MESSAGES["device_remove_last"] not in page, "the phone is still there"
    assert Authenticator.objects.filter(pk=yubikey.pk).exists()
    assert not AuditEvent.objects.filter(action="authenticator.removed").exists()


def test_confirming_removes_the_device_and_the_message_names_it(stepped_up, yubikey, run_on_commit):
    with run_on_commit():
        response = stepped_up.post(_url(yubikey))
    assert response.status_code == 302 and response["Location"] == "/account/mfa-devices/"
    assert not Authenticator.objects.filter(pk=yubikey.pk).exists()
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["“YubiKey 5” was removed from your MFA devices."]
    assert "“YubiKey 5” was removed" in stepped_up.get("/account/mfa-devices/").content.decode()
    assert AuditEvent.objects.filter(action="authenticator.removed").count() == 1
    assert len(mail.outbox) == 1 and "YubiKey 5" in mail.outbox[0].body


def test_a_replayed_confirmation_is_refused_in_words_and_removes_nothing_more(stepped_up, yubikey, run_on_commit):
    with run_on_commit():
        assert stepped_up.post(_url(yubikey)).status_code == 302
        again = stepped_up.post(_url(yubikey))
    assert again.status_code == 404
    assert MESSAGES["device_not_found"] in again.content.decode()
    assert AuditEvent.objects.filter(action="authenticator.removed").count() == 1
    assert len(mail.outbox) == 1
    assert Authenticator.objects.filter(name="Phone").exists()
    assert stepped_up.get(_url(yubikey)).status_code == 404, "and the confirmation page says so too"


def test_another_users_device_cannot_be_confirmed_or_removed(stepped_up, make_user):
    victim = make_user()
    theirs = enroll_webauthn(victim, FakeAuthenticator(), name="Victim's key")
    for response in (stepped_up.get(_url(theirs)), stepped_up.post(_url(theirs))):
        assert response.status_code == 404
        page = response.content.decode()
        assert MESSAGES["device_not_found"] in page and "Victim" not in page, "nothing about it leaks"
    assert Authenticator.objects.filter(pk=theirs.pk).exists()
    assert not AuditEvent.objects.filter(action="authenticator.removed").exists()


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "1", "' OR 1=1 --", "00000000-0000-0000-0000-00000000000g",
                                    "%00", "..%2F..%2Fadmin", "x" * 5000])
def test_a_malformed_device_id_gets_a_not_found_page_never_a_500(stepped_up, bad_id):
    for method in (stepped_up.get, stepped_up.post):
        response = method(f"/account/mfa-devices/{bad_id}/remove/")
        assert response.status_code == 404
        assert "Page not found" in response.content.decode()
    assert Authenticator.objects.count() == 2


def test_a_well_formed_id_of_no_device_is_not_found(stepped_up):
    response = stepped_up.post("/account/mfa-devices/00000000-0000-0000-0000-000000000000/remove/")
    assert response.status_code == 404 and MESSAGES["device_not_found"] in response.content.decode()


def test_a_post_without_its_csrf_token_is_refused_in_words(stepped_up, yubikey):
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = stepped_up.cookies  # the same browser session, window open
    assert strict.get(_url(yubikey)).status_code == 200
    response = strict.post(_url(yubikey))
    assert response.status_code == 403
    page = response.content.decode()
    assert "The form could not be accepted" in page and "nothing was changed" in page
    assert Authenticator.objects.filter(pk=yubikey.pk).exists()
    token = strict.cookies["csrftoken"].value  # the same post with the page's token goes through
    assert strict.post(_url(yubikey), {"csrfmiddlewaretoken": token}).status_code == 302
    assert not Authenticator.objects.filter(pk=yubikey.pk).exists()


def test_a_csrf_token_of_another_session_does_not_count(stepped_up, yubikey, member):
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = stepped_up.cookies
    assert strict.get(_url(yubikey)).status_code == 200  # this browser has its own CSRF cookie now
    attacker = Client(enforce_csrf_checks=True)
    attacker.force_login(member)
    attacker.get("/account/mfa-devices/")
    token = attacker.cookies["csrftoken"].value
    assert token != strict.cookies["csrftoken"].value
    response = strict.post(_url(yubikey), {"csrfmiddlewaretoken": token})
    assert response.status_code == 403
    assert Authenticator.objects.filter(pk=yubikey.pk).exists()


def test_without_the_window_the_confirmation_sends_to_step_up_and_back(client, member, yubikey, clock):
    _, otp = enroll_totp(member, name="Phone")
    client.force_login(member)
    response = client.get(_url(yubikey))
    assert response.status_code == 302
    assert response["Location"] == f"{STEP_UP}?next={_url(yubikey).replace('/', '%2F')}"
    back = client.post(STEP_UP, {"code": code_at(otp), "next": _url(yubikey)})
    assert back["Location"] == _url(yubikey)
    assert "Remove “YubiKey 5”?" in client.get(back["Location"]).content.decode()


def test_a_window_that_closed_before_confirming_asks_again_and_removes_nothing(stepped_up, yubikey, clock):
    assert stepped_up.get(_url(yubikey)).status_code == 200
    clock.advance(minutes=10, seconds=1)
    response = stepped_up.post(_url(yubikey))
    assert response.status_code == 302 and response["Location"].startswith(STEP_UP)
    assert "next=" + _url(yubikey).replace("/", "%2F") in response["Location"], "back to the confirmation"
    assert Authenticator.objects.filter(pk=yubikey.pk).exists()


def test_removing_the_only_device_warns_first(client, member, clock):
    only, otp = enroll_totp(member, name="Phone")
    client.force_login(member)
    client.post(STEP_UP, {"code": code_at(otp)})
    page = client.get(_url(only)).content.decode()
    assert "Remove “Phone”?" in page and MESSAGES["device_remove_last"] in page


def test_a_device_name_with_markup_is_shown_as_text(client, member, clock):
    _, otp = enroll_totp(member, name="Phone")
    odd = enroll_webauthn(member, FakeAuthenticator(), name="<img src=x onerror=alert(1)>")
    client.force_login(member)
    client.post(STEP_UP, {"code": code_at(otp)})
    page = client.get(_url(odd)).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    response = client.post(_url(odd), follow=True)
    assert "&lt;img src=x onerror=alert(1)&gt;” was removed" in response.content.decode()


def test_other_methods_are_not_allowed(stepped_up, yubikey):
    for method in (stepped_up.put, stepped_up.delete, stepped_up.patch):
        assert method(_url(yubikey)).status_code == 405
    assert Authenticator.objects.filter(pk=yubikey.pk).exists()


def test_signed_out_the_confirmation_sends_to_sign_in(client, member, yubikey):
    response = client.get(_url(yubikey))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert client.post(_url(yubikey)).status_code == 302
    assert Authenticator.objects.filter(pk=yubikey.pk).exists()
