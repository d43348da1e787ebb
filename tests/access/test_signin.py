"""Sign-in with django-allauth: what each sign-in records (SECURITY rows 12, 20, 23)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.core import mail
from django.test import RequestFactory
from django.contrib.sessions.backends.db import SessionStore

from accounts.adapter import record_allauth_sign_in
from mfa_policies import constants as c
from accounts.sign_in import SIGN_IN_KEY
from tests.support.authenticators import code_at, enroll_totp
from tests.support.signin import sign_in

PW = "correct-horse-battery"


def test_password_sign_in_records_the_password_connection_and_rotates_the_key(client, clock, make_user):
    make_user("a@example.test")
    client.get("/accounts/login/")
    before = client.session.session_key
    response = client.post("/accounts/login/", {"login": "a@example.test", "password": PW})
    assert response.status_code == 302
    session = client.session
    assert session.session_key != before
    record = session[SIGN_IN_KEY]
    assert record["connection"] == c.CONNECTION_PASSWORD
    assert record["amr"] == []
    assert record["at"] == clock.now.timestamp()


def test_no_session_value_holds_the_password(client, clock, demo):
    sign_in(client, "other@demo.test")
    client.get("/demo/a/")  # pending MFA (or enroll)
    session = client.session
    dump = repr({k: session[k] for k in session.keys()})
    assert "demo-password" not in dump


def test_login_by_code_records_email_otp(client, clock, make_user):
    make_user("code@example.test")
    response = client.post("/accounts/login/code/", {"email": "code@example.test"})
    assert response.status_code == 302
    body = mail.outbox[-1].body
    code = re.search(r"^\s*([A-Z0-9]{4}-?[A-Z0-9]{4})\s*$", body, re.M).group(1)
    response = client.post("/accounts/login/code/confirm/", {"code": code})
    assert response.status_code == 302
    assert client.session[SIGN_IN_KEY]["connection"] == c.CONNECTION_EMAIL_OTP


def _social_request(user, provider="okta", id_token=None):
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.user = user
    sociallogin = SimpleNamespace(account=SimpleNamespace(provider=provider, extra_data={"id_token": id_token or {}}))
    return request, sociallogin


def test_oidc_sign_in_records_the_connection_amr_and_auth_time(clock, make_user, make_connection):
    make_connection("okta", c.CONNECTION_OIDC, provider_id="corp-oidc")
    user = make_user()
    auth_time = int(clock.now.timestamp()) - 300
    request, sociallogin = _social_request(user, "corp-oidc", {"amr": ["pwd", "hwk"], "auth_time": auth_time})
    record_allauth_sign_in(request, user, sociallogin)
    record = request.session[SIGN_IN_KEY]
    assert record["connection"] == "okta"
    assert record["amr"] == ["pwd", "hwk"]
    assert record["at"] == auth_time


@pytest.mark.parametrize("amr", ["hwk", {"hwk": 1}, 7])
def test_a_non_list_amr_is_rejected_as_empty(clock, make_user, amr, caplog):
    user = make_user()
    request, sociallogin = _social_request(user, "x", {"amr": amr})
    record_allauth_sign_in(request, user, sociallogin)
    assert request.session[SIGN_IN_KEY]["amr"] == []
    assert "not a list" in caplog.text


@pytest.mark.parametrize("auth_time", [None, "yesterday", 10**12, True])
def test_an_absent_or_insane_auth_time_means_now(clock, make_user, auth_time):
    user = make_user()
    request, sociallogin = _social_request(user, "x", {"amr": ["otp"], "auth_time": auth_time})
    record_allauth_sign_in(request, user, sociallogin)
    assert request.session[SIGN_IN_KEY]["at"] == clock.now.timestamp()


def test_an_unregistered_provider_never_matches_an_exempt_connection(clock, make_user):
    user = make_user()
    request, sociallogin = _social_request(user, "okta", {"amr": []})
    record_allauth_sign_in(request, user, sociallogin)
    assert request.session[SIGN_IN_KEY]["connection"] == "unregistered:okta"


def test_mfa_success_rotates_the_session_key(client, clock, demo):
    from accounts.models import User

    _, otp = enroll_totp(User.objects.get(email="other@demo.test"))
    sign_in(client, "other@demo.test")
    client.get("/demo/a/")
    before = client.session.session_key
    clock.advance(seconds=31)
    assert client.post("/mfa/verify/", {"code": code_at(otp)}).status_code == 302
    assert client.session.session_key != before


def test_a_pending_challenge_expires_after_ten_minutes(client, clock, demo):
    from accounts.models import User

    enroll_totp(User.objects.get(email="other@demo.test"))
    sign_in(client, "other@demo.test")
    client.get("/demo/a/")
    assert client.get("/mfa/verify/").status_code == 200
    clock.advance(minutes=10, seconds=1)
    response = client.get("/mfa/verify/")
    assert response.status_code == 302  # starts over from the app


def test_logout_clears_the_pending_challenge_and_app_sessions(client, clock, demo):
    sign_in(client, "p2@demo.test")
    assert client.get("/demo/a/").status_code == 200
    client.post("/accounts/logout/")
    assert "mfagate.apps" not in client.session
    assert client.get("/demo/a/").status_code == 302


def test_sign_in_pages_use_the_site_layout(client, db):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert b'class="topbar"' in page.content and b"css/app.css" in page.content


def test_self_sign_up_is_closed_unless_opened(client, db, settings):
    from accounts.models import User

    response = client.post("/accounts/signup/", {"email": "walk-in@x.test", "password1": "a-Long-pass-9",
                                                 "password2": "a-Long-pass-9"})
    assert not User.objects.filter(email="walk-in@x.test").exists()
    assert response.status_code in (200, 302) and b"Sign Up Closed" in client.get("/accounts/signup/").content
    page = client.get("/accounts/login/").content.decode()
    assert "created by your administrator" in page and "/accounts/signup/" not in page
    settings.MFAGATE_OPEN_SIGNUP = True
    assert "/accounts/signup/" in client.get("/accounts/login/").content.decode()
    client.post("/accounts/signup/", {"email": "walk-in@x.test", "password1": "a-Long-pass-9",
                                      "password2": "a-Long-pass-9"})
    assert User.objects.filter(email="walk-in@x.test").exists()
