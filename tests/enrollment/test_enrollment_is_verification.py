"""Proving a code or a WebAuthn ceremony at enrollment is a verification with that authenticator:
it opens the step-up window and records an MFA session for its kind in this browser session
(issue 11 item 4). Before, a user who had just enrolled a TOTP was asked for another code moments
later and had to wait for the next step, the one just used being rightly refused as a replay."""

from __future__ import annotations

import json

import pyotp
import pytest

from accounts.models import User
from enrollment import flows, step_up, totp
from enrollment.messages import EnrollmentError
from enrollment.views import PENDING_TOTP_KEY
from mfa_policies import constants as c
from mfa_policies.access import session_state
from tests.support.authenticators import ORIGIN, code_at, session_request
from tests.support.signin import sign_in
from tests.support.webauthn_fakes import FakeAuthenticator

pytestmark = pytest.mark.django_db
ADD_TOTP = "/account/mfa-devices/add/totp/"


@pytest.fixture(autouse=True)
def _webauthn_settings(settings):
    settings.MFAGATE_WEBAUTHN_RP_ID = "localhost"
    settings.MFAGATE_WEBAUTHN_ORIGINS = [ORIGIN]
    settings.MFAGATE_WEBAUTHN_EXTRA_ROOT_CERTS = []


def _enroll_totp(client, next_url=""):
    client.get(ADD_TOTP)
    otp = pyotp.TOTP(totp.base32_secret(client.session[PENDING_TOTP_KEY]))
    response = client.post(ADD_TOTP, {"code": code_at(otp), "name": "Phone", "next": next_url})
    assert response.status_code == 302, response.content[:500]
    return response, otp


def _enroll_key(client, next_url=""):
    options = client.post("/account/mfa-devices/webauthn/register/options/", {"kind": c.SECURITY_KEY},
                          content_type="application/json").json()["options"]
    credential = FakeAuthenticator().register(options, origin=ORIGIN)
    response = client.post("/account/mfa-devices/webauthn/register/verify/",
                           json.dumps({"credential": credential, "next": next_url}), content_type="application/json")
    assert response.json()["ok"] is True, response.content
    return response


def test_after_enrolling_a_totp_a_second_device_needs_no_second_code(client, member, clock):
    client.force_login(member)
    before = client.session.session_key
    _enroll_totp(client)
    assert client.session.session_key != before, "a verification rotates the session key"
    assert client.get("/AddMfaDevice").status_code == 200, "no step-up: the enrollment was the verification"
    _enroll_key(client)
    assert member.authenticators.count() == 2


def test_after_enrolling_a_key_the_window_is_open_too(client, member, clock):
    client.force_login(member)
    _enroll_key(client)
    assert client.get("/AddMfaDevice").status_code == 200
    assert client.get(ADD_TOTP).status_code == 200


def test_the_window_opened_by_enrollment_closes_after_ten_minutes(client, member, clock):
    client.force_login(member)
    _enroll_totp(client)
    clock.advance(minutes=10, seconds=1)
    assert client.get("/AddMfaDevice")["Location"].startswith("/account/mfa-devices/verify/")


def test_a_protected_app_that_accepts_totp_lets_the_new_user_in_without_another_challenge(client, demo, clock):
    sign_in(client, "other@demo.test")
    sent = client.get("/demo/a/")
    assert sent.status_code == 302 and sent["Location"].startswith("/AddMfaDevice?next=%2Fdemo%2Fa%2F")
    response, _ = _enroll_totp(client, next_url="/demo/a/")
    assert response["Location"] == "/demo/a/"
    inside = client.get("/demo/a/")
    assert inside.status_code == 200
    assert inside.wsgi_request.access.claims["amr"] == ["otp", "mfa"]
    assert inside.wsgi_request.access.decision.satisfied_by == "mfa_session"


def test_the_admin_console_lets_the_admin_in_right_after_enrolling(client, demo, clock):
    sign_in(client, "admin@demo.test")
    assert client.get("/admin/")["Location"].startswith("/AddMfaDevice")
    _enroll_totp(client, next_url="/admin/")
    assert client.get("/admin/").status_code == 200


def test_an_enrolled_kind_the_application_does_not_accept_lets_nobody_in(client, demo, clock):
    sign_in(client, "p1@demo.test")  # Policy 1: security key only
    _enroll_totp(client, next_url="/demo/a/")
    again = client.get("/demo/a/")
    assert again.status_code == 302 and again["Location"].startswith("/AddMfaDevice")
    _enroll_key(client, next_url="/demo/a/")
    assert client.get("/demo/a/").status_code == 200


def test_the_mfa_session_from_enrollment_stays_in_that_browser(client, demo, clock):
    """The MFA session from enrollment belongs to this browser session: another browser of the
    same user is still challenged."""
    from django.test import Client

    sign_in(client, "other@demo.test")
    _enroll_totp(client, next_url="/demo/a/")
    other = Client()
    sign_in(other, "other@demo.test")
    assert other.get("/demo/a/")["Location"].startswith("/mfa/verify/")


def test_a_refused_enrollment_records_nothing(member, clock):
    request = session_request(member)
    key = totp.new_secret()
    with pytest.raises(EnrollmentError):
        flows.totp_add(request=request, acting_user=member, key_hex=key, code="000000")
    assert not step_up.is_open(request)
    assert session_state.mfa_sessions(request, user_generation=0) == ()


def test_the_mfa_session_names_the_new_authenticator_and_the_users_generation(member, clock):
    User.objects.filter(pk=member.pk).update(mfa_generation=7)
    member.refresh_from_db()
    request = session_request(member)
    key = totp.new_secret()
    code = pyotp.TOTP(totp.base32_secret(key)).at(clock.now.timestamp())
    added = flows.totp_add(request=request, acting_user=member, key_hex=key, code=code)
    [entry] = session_state.mfa_sessions(request, user_generation=7)
    assert (entry.kind, entry.authenticator_id, entry.verified_at) == (c.TOTP, str(added.pk), clock.now)
    assert step_up.is_open(request)
