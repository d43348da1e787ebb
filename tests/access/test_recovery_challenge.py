"""Recovery codes at the MFA challenge (issue 11 items 1, 4 and 5), end to end with the demo:
a code never satisfies an application by itself; it opens the step-up window and sends the user
to enroll, and enrolling is the verification that lets them in — if that kind is allowed."""

from __future__ import annotations

import json
import re

import pyotp
import pytest

from accounts.models import AuditEvent, User
from enrollment import recovery, totp
from enrollment.messages import MESSAGES
from enrollment.models import Authenticator
from enrollment.views import PENDING_TOTP_KEY
from mfa_policies import constants as c
from mfa_policies.models import Organization
from tests.support.authenticators import ORIGIN, code_at, enroll_totp, enroll_webauthn, step_up_request
from tests.support.signin import sign_in
from tests.support.webauthn_fakes import FakeAuthenticator

pytestmark = pytest.mark.django_db
CHALLENGE = "/mfa/verify/?next=%2Fdemo%2Fa%2F"
RECOVERY = "/mfa/verify/recovery/?next=%2Fdemo%2Fa%2F"
ENROLL = "/AddMfaDevice?next=%2Fdemo%2Fa%2F"


@pytest.fixture(autouse=True)
def _webauthn_settings(settings):
    settings.MFAGATE_WEBAUTHN_RP_ID = "localhost"
    settings.MFAGATE_WEBAUTHN_ORIGINS = [ORIGIN]
    settings.MFAGATE_WEBAUTHN_EXTRA_ROOT_CERTS = []


def _codes(user):
    return recovery.generate(request=step_up_request(user), acting_user=user)


def _at_the_challenge(client, email):
    sign_in(client, email)
    response = client.get("/demo/a/")
    assert response.status_code == 302 and response["Location"] == CHALLENGE
    return client.get(CHALLENGE)


def _register_key(client, next_url="/demo/a/"):
    options = client.post("/account/mfa-devices/webauthn/register/options/", {"kind": c.SECURITY_KEY},
                          content_type="application/json")
    assert options.status_code == 200, options.content
    credential = FakeAuthenticator().register(options.json()["options"], origin=ORIGIN)
    return client.post("/account/mfa-devices/webauthn/register/verify/",
                       json.dumps({"credential": credential, "name": "New key", "next": next_url}),
                       content_type="application/json")


def test_lost_phone_recovery_code_then_a_new_key_lets_the_user_in(client, demo, clock):
    user = User.objects.get(email="other@demo.test")  # Application A: the Demo organization's three kinds
    enroll_totp(user)
    code = _codes(user)[0]
    page = _at_the_challenge(client, "other@demo.test").content.decode()
    assert f'href="{RECOVERY.replace("&", "&amp;")}"' in page and "Use a recovery code" in page

    form = client.get(RECOVERY)
    assert form.status_code == 200, form.content[:300]
    assert "“Application A” accepts (authenticator application, security key or biometrics)" in \
        form.content.decode()
    used = client.post(RECOVERY, {"code": code})
    assert used.status_code == 302 and used["Location"] == ENROLL
    assert client.get("/demo/a/")["Location"] == CHALLENGE, "a recovery code alone never satisfies the application"
    enroll_page = client.get(ENROLL)
    assert enroll_page.status_code == 200, "the code opened the step-up window"
    assert "Recovery code accepted (9 left)" in enroll_page.content.decode()

    registered = _register_key(client)
    assert registered.json() == {"ok": True, "redirect": "/demo/a/"}
    inside = client.get("/demo/a/")
    assert inside.status_code == 200, "enrolling the key was the verification"
    assert inside.wsgi_request.access.claims["amr"] == ["hwk", "mfa"]
    assert AuditEvent.objects.filter(action="recovery_code.used", subject_user=user).count() == 1


def test_a_code_never_weakens_a_security_key_only_policy(client, demo, clock):
    """p1 (Policy 1: security key only) uses a code and enrolls an authenticator application: that
    verification is of the wrong kind, so Application A still wants a security key."""
    user = User.objects.get(email="p1@demo.test")
    enroll_webauthn(user, FakeAuthenticator())
    code = _codes(user)[0]
    page = _at_the_challenge(client, "p1@demo.test").content.decode()
    assert "Use a recovery code" in page
    assert client.post(RECOVERY, {"code": code})["Location"] == ENROLL
    client.get("/account/mfa-devices/add/totp/?next=/demo/a/")
    otp = pyotp.TOTP(totp.base32_secret(client.session[PENDING_TOTP_KEY]))
    added = client.post("/account/mfa-devices/add/totp/?next=/demo/a/", {"code": code_at(otp), "next": "/demo/a/"})
    assert added.status_code == 302 and added["Location"] == "/demo/a/"
    assert Authenticator.objects.filter(user=user, kind=c.TOTP).exists()
    again = client.get("/demo/a/")
    assert again.status_code == 302 and again["Location"] == CHALLENGE
    assert "Code from your authenticator application" not in client.get(CHALLENGE).content.decode()
    # A new security key, on the other hand, is what Policy 1 asks for.
    assert _register_key(client).json()["ok"] is True
    assert client.get("/demo/a/").status_code == 200


def test_no_link_and_no_use_where_the_applications_organization_turned_codes_off(client, demo, clock):
    user = User.objects.get(email="other@demo.test")
    enroll_totp(user)
    code = _codes(user)[0]
    Organization.objects.filter(name="Demo").update(recovery_codes_enabled=False)
    page = _at_the_challenge(client, "other@demo.test").content.decode()
    assert "Use a recovery code" not in page
    refused = client.post(RECOVERY, {"code": code})
    assert refused.status_code == 200
    assert "Recovery codes are turned off by your organization “Demo”" in refused.content.decode()
    assert recovery.remaining(user) == 10 and client.get("/AddMfaDevice").status_code == 302


def test_no_link_without_codes_left(client, demo, clock):
    user = User.objects.get(email="other@demo.test")
    enroll_totp(user)
    assert "Use a recovery code" not in _at_the_challenge(client, "other@demo.test").content.decode()


@pytest.mark.parametrize("hostile", ["", "ZZZZ-ZZZZ-ZZZZ-ZZZY", "A" * 65, "A" * 200_000, "\x00", "ΑΒΓΔ-ΕΖΗΘ-ΙΚΛΜ-ΝΞΟΠ",
                                     "<script>alert(1)</script>"])
def test_hostile_codes_at_the_challenge_get_a_message_next_to_the_field(client, demo, clock, hostile):
    user = User.objects.get(email="other@demo.test")
    enroll_totp(user)
    _codes(user)
    _at_the_challenge(client, "other@demo.test")
    response = client.post(RECOVERY, {"code": hostile})
    assert response.status_code == 400
    error = re.search(r'<ul class="errorlist" role="alert"><li>(.*?)</li>', response.content.decode())
    assert error and error.group(1) in {MESSAGES["recovery_code_format"], MESSAGES["recovery_code_invalid"]}
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert recovery.remaining(user) == 10
    assert client.get("/demo/a/")["Location"] == CHALLENGE


def test_a_used_code_is_refused_at_the_next_challenge(client, demo, clock):
    from django.test import Client

    user = User.objects.get(email="other@demo.test")
    enroll_totp(user)
    code = _codes(user)[0]
    _at_the_challenge(client, "other@demo.test")
    client.post(RECOVERY, {"code": code})
    second = Client()
    _at_the_challenge(second, "other@demo.test")
    response = second.post(RECOVERY, {"code": code})
    assert response.status_code == 400 and MESSAGES["recovery_code_used"] in response.content.decode()


def test_the_recovery_page_without_a_pending_challenge_sends_back(client, demo, clock):
    client.force_login(User.objects.get(email="other@demo.test"))
    response = client.get("/mfa/verify/recovery/")
    assert response.status_code == 302 and response["Location"] == "/"
    client.logout()
    anonymous = client.get("/mfa/verify/recovery/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
