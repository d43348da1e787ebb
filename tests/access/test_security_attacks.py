"""Attacks on SECURITY.md rows the rest of the suite covered only in part (see docs/SECURITY-TESTS.md).

Each test mounts the attack through the pages a browser would use (Django test client) unless the
row is about a unit (the TOTP arithmetic, the WebAuthn checks); time moves with the ``clock``
fixture only.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from enrollment import throttle, totp
from enrollment import webauthn as wa
from enrollment.models import Authenticator, VerificationThrottle
from enrollment.verification import VerificationError, totp_verify, webauthn_assertion_options, webauthn_assertion_verify
from enrollment.views import PENDING_TOTP_KEY
from mfa_policies import constants as c
from tests.support import webauthn_fakes
from tests.support.authenticators import ORIGIN, code_at, enroll_totp, enroll_webauthn, session_request
from tests.support.signin import sign_in
from tests.support.webauthn_fakes import FakeAuthenticator

PW = "correct-horse-battery"
APP = "/demo/a/"
VERIFY = "/mfa/verify/"
WA_OPTIONS = "/mfa/verify/webauthn/options/"
WA_VERIFY = "/mfa/verify/webauthn/verify/"
STEP_UP = "/account/mfa-devices/verify/"
STEP_UP_OPTIONS = "/account/mfa-devices/verify/webauthn/options/"
STEP_UP_VERIFY = "/account/mfa-devices/verify/webauthn/verify/"
REGISTER_OPTIONS = "/account/mfa-devices/webauthn/register/options/"
REGISTER_VERIFY = "/account/mfa-devices/webauthn/register/verify/"
ALL_KINDS = [c.TOTP, c.SECURITY_KEY, c.BIOMETRICS]
EVIL = ["//evil.com", "http:\\\\evil.com", "\njavascript:x", "http://testserver\\@evil.com", "http:999999999",
        "https://evil.com/", "///evil.com", "javascript:alert(1)"]


@pytest.fixture(autouse=True)
def _webauthn_settings(settings):
    settings.MFAGATE_WEBAUTHN_RP_ID = "localhost"
    settings.MFAGATE_WEBAUTHN_ORIGINS = [ORIGIN]
    settings.MFAGATE_WEBAUTHN_EXTRA_ROOT_CERTS = []


@pytest.fixture
def make_mfa_app_all_kinds(make_org, make_app, make_policy, make_user, make_member):
    """Makes an org requiring MFA (every kind allowed), one app on /demo/a/ under one policy, and a member;
    returns (org, app, user)."""

    def build(email="u@example.test", app_fields=None, policy_fields=None):
        org = make_org(mfa_required_for_all_apps=True, allowed_authenticators=ALL_KINDS)
        app = make_app(org, path_prefixes=[APP], **(app_fields or {}))
        make_policy(org, apps=[app], **(policy_fields or {}))
        user = make_user(email)
        make_member(user, org)
        return org, app, user

    return build


def _wrong(otp) -> str:
    return "000000" if code_at(otp) != "000000" else "111111"


def _json(client, url, data=None, **extra):
    return client.post(url, json.dumps(data or {}), content_type="application/json", **extra)


def _challenge(client):
    """Open the app so a challenge is pending; returns the redirect."""
    response = client.get(APP)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY), response
    return response


def _wa_assert(client, fake, kind=c.SECURITY_KEY, **changes):
    options = client.post(f"{WA_OPTIONS}?kind={kind}").json()["options"]
    return _json(client, f"{WA_VERIFY}?kind={kind}", {"credential": fake.assert_(options, **{"origin": ORIGIN, **changes})})


# ------------------------------------------------------------------- row 3: 100 failures
def test_row3_hundred_failures_mixing_totp_and_webauthn_at_the_challenge_lock_the_right_code_out(
        client, clock, make_mfa_app_all_kinds):
    _, _, user = make_mfa_app_all_kinds()
    _, otp = enroll_totp(user)
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    sign_in(client, user.email, PW)
    for i in range(throttle.HARD_LOCK_AT):
        clock.advance(minutes=16)  # past any growing delay, so each attempt is really checked
        _challenge(client)
        if i % 2:
            assert client.post(VERIFY, {"code": _wrong(otp)}).status_code == 400
        else:
            refused = _wa_assert(client, fake, origin="https://evil.example")
            assert refused.status_code == 400 and refused.json()["ok"] is False
    assert VerificationThrottle.objects.get(user=user).consecutive_failures == throttle.HARD_LOCK_AT
    clock.advance(minutes=16)
    _challenge(client)
    locked = client.post(VERIFY, {"code": code_at(otp)})
    assert locked.status_code == 400 and "locked" in locked.content.decode()
    assert _wa_assert(client, fake).json()["ok"] is False  # the key is locked out too
    clock.advance(hours=1)
    _challenge(client)
    assert client.post(VERIFY, {"code": code_at(otp)})["Location"] == APP


def test_row3_a_success_resets_the_consecutive_count(make_user, clock):
    user = make_user()
    _, otp = enroll_totp(user)
    for _ in range(throttle.HARD_LOCK_AT - 1):
        clock.advance(minutes=16)
        with pytest.raises(VerificationError):
            totp_verify(request=session_request(user), user=user, code=_wrong(otp))
    clock.advance(minutes=16)
    totp_verify(request=session_request(user), user=user, code=code_at(otp))
    clock.advance(seconds=31)
    with pytest.raises(VerificationError) as refused:  # would be the 100th without the reset
        totp_verify(request=session_request(user), user=user, code=_wrong(otp))
    assert refused.value.code == "invalid_code"
    clock.advance(seconds=31)
    totp_verify(request=session_request(user), user=user, code=code_at(otp))  # not locked


# ---------------------------------------------------------------- row 4: keyed on the account
def test_row4_rotating_remote_addr_and_x_forwarded_for_does_not_unlock(client, clock, make_mfa_app_all_kinds):
    _, _, user = make_mfa_app_all_kinds()
    _, otp = enroll_totp(user)
    sign_in(client, user.email, PW)
    _challenge(client)
    for i in range(throttle.FREE_ATTEMPTS + 2):
        client.post(VERIFY, {"code": _wrong(otp)}, REMOTE_ADDR=f"10.0.{i}.1",
                    HTTP_X_FORWARDED_FOR=f"203.0.113.{i}, 10.0.{i}.1", HTTP_X_REAL_IP=f"198.51.100.{i}")
    fresh = client.post(VERIFY, {"code": code_at(otp)}, REMOTE_ADDR="192.0.2.77",
                        HTTP_X_FORWARDED_FOR="192.0.2.78")
    assert fresh.status_code == 400 and "Wait" in fresh.content.decode()
    other_browser = Client(REMOTE_ADDR="192.0.2.99")  # a new session from a new address: same account
    sign_in(other_browser, user.email, PW)
    _challenge(other_browser)
    assert other_browser.post(VERIFY, {"code": code_at(otp)}).status_code == 400


def test_row4_user_bs_failures_leave_a_untouched(client, clock, make_mfa_app_all_kinds, make_user, make_member):
    org, _, alice = make_mfa_app_all_kinds("alice@example.test")
    bob = make_user("bob@example.test")
    make_member(bob, org)
    _, alice_otp = enroll_totp(alice)
    _, bob_otp = enroll_totp(bob)
    for _ in range(throttle.HARD_LOCK_AT):  # Bob's account is locked for an hour
        clock.advance(minutes=16)
        with pytest.raises(VerificationError):
            totp_verify(request=session_request(bob), user=bob, code=_wrong(bob_otp))
    with pytest.raises(VerificationError) as locked:
        totp_verify(request=session_request(bob), user=bob, code=code_at(bob_otp))
    assert locked.value.reason == "locked"
    sign_in(client, alice.email, PW)  # from the same address as Bob's attempts
    _challenge(client)
    assert client.post(VERIFY, {"code": code_at(alice_otp)})["Location"] == APP


# ------------------------------------------------------------ row 5: ±1 step, server clock
@pytest.mark.parametrize("steps", [-2, 2, -3, 3])
def test_row5_a_client_sent_time_cannot_widen_the_window(client, clock, make_mfa_app_all_kinds, steps):
    _, _, user = make_mfa_app_all_kinds()
    _, otp = enroll_totp(user)
    clock.set(clock.now.replace(second=15))  # mid-step
    sign_in(client, user.email, PW)
    _challenge(client)
    client_time = clock.now.timestamp() + 30 * steps
    code = code_at(otp, 30 * steps)
    response = client.post(
        f"{VERIFY}?time={int(client_time)}",
        {"code": code, "time": int(client_time), "timestamp": int(client_time), "t": client_time},
        HTTP_DATE=dt.datetime.fromtimestamp(client_time, dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT"),
        HTTP_X_CLIENT_TIME=str(int(client_time)),
    )
    assert response.status_code == 400 and "not valid" in response.content.decode()
    step_up = client.post(STEP_UP, {"code": code, "time": int(client_time)})
    assert step_up.status_code == 200 and "mfagate.step_up" not in client.session


# ----------------------------------------------------------------- row 6: the TOTP secret
def test_row6_secrets_are_160_bits_and_never_repeat():
    secrets_ = {totp.new_secret() for _ in range(200)}
    assert len(secrets_) == 200
    assert all(len(bytes.fromhex(s)) >= 20 for s in secrets_)


def test_row6_each_enrollment_stores_its_own_secret(clock, make_mfa_app_all_kinds, make_user, make_member):
    org, _, first = make_mfa_app_all_kinds()
    second = make_user()
    make_member(second, org)
    for user in (first, second):
        browser = Client()
        browser.force_login(user)
        browser.get("/account/mfa-devices/add/totp/")
        pending = browser.session[PENDING_TOTP_KEY]
        code = code_at(__import__("pyotp").TOTP(totp.base32_secret(pending)))
        assert browser.post("/account/mfa-devices/add/totp/", {"code": code}).status_code == 302
    keys = [a.totp_device.key for a in Authenticator.objects.select_related("totp_device")]
    assert len(keys) == 2 and keys[0] != keys[1]


def test_row6_an_unconfirmed_setup_never_satisfies_mfa(client, clock, make_mfa_app_all_kinds):
    import pyotp

    _, _, user = make_mfa_app_all_kinds()
    sign_in(client, user.email, PW)
    client.get("/account/mfa-devices/add/totp/")  # the secret is shown but never proven
    otp = pyotp.TOTP(totp.base32_secret(client.session[PENDING_TOTP_KEY]))
    wrong = client.post("/account/mfa-devices/add/totp/", {"code": _wrong(otp)})
    assert wrong.status_code == 200 and not Authenticator.objects.exists()
    response = client.get(APP)
    assert response["Location"].startswith("/AddMfaDevice?next=")  # still nothing enrolled
    clock.advance(seconds=31)
    assert client.post(VERIFY, {"code": code_at(otp)}).status_code == 302  # nothing to verify
    again = client.get(APP)
    assert again.status_code == 302 and again["Location"].startswith("/AddMfaDevice")
    with pytest.raises(VerificationError) as refused:
        totp_verify(request=session_request(user), user=user, code=code_at(otp))
    assert refused.value.code == "no_device"


def test_row6_the_secret_is_never_shown_again_after_enrollment(client, clock, make_mfa_app_all_kinds):
    import pyotp

    _, _, user = make_mfa_app_all_kinds()
    client.force_login(user)
    client.get("/account/mfa-devices/add/totp/")
    key_hex = client.session[PENDING_TOTP_KEY]
    secret = totp.base32_secret(key_hex)
    assert client.post("/account/mfa-devices/add/totp/", {"code": code_at(pyotp.TOTP(secret))}).status_code == 302
    assert PENDING_TOTP_KEY not in client.session
    pages = [client.get(path).content.decode() for path in (
        "/", "/account/mfa-devices/", "/AddMfaDevice", STEP_UP, "/account/mfa-devices/add/totp/")]
    client.post(STEP_UP, {"code": code_at(pyotp.TOTP(secret), 30)})
    pages += [client.get(path).content.decode() for path in ("/AddMfaDevice", "/account/mfa-devices/add/totp/")]
    for html in pages:
        assert secret not in html and key_hex not in html
        assert all(group not in html for group in totp.setup_key_groups(key_hex)[:4])
    assert all(key_hex not in json.dumps(dict(client.session.items()), default=str) for _ in [0])


# ------------------------------------------------------- row 11: an older password-only session
def test_row11_an_older_session_that_passed_mfa_cannot_remove_or_add(client, clock, make_mfa_app_all_kinds):
    _, _, user = make_mfa_app_all_kinds()
    authenticator, otp = enroll_totp(user)
    key = enroll_webauthn(user, FakeAuthenticator())
    sign_in(client, user.email, PW)
    _challenge(client)
    clock.advance(seconds=31)
    assert client.post(VERIFY, {"code": code_at(otp)})["Location"] == APP  # MFA at sign-in, not step-up
    clock.advance(hours=3)
    for device in (authenticator, key):
        response = client.post(f"/account/mfa-devices/{device.pk}/remove/")
        assert response.status_code == 302 and response["Location"].startswith(STEP_UP)
    assert _json(client, REGISTER_OPTIONS, {"kind": c.SECURITY_KEY}).status_code == 403
    assert _json(client, REGISTER_VERIFY, {"credential": {}}).status_code == 403
    assert Authenticator.objects.filter(user=user).count() == 2


def test_row11_a_step_up_from_yesterday_does_not_count(client, clock, make_mfa_app_all_kinds):
    _, _, user = make_mfa_app_all_kinds()
    authenticator, otp = enroll_totp(user)
    client.force_login(user)
    assert client.post(STEP_UP, {"code": code_at(otp)}).status_code == 302
    clock.advance(days=1)
    response = client.post(f"/account/mfa-devices/{authenticator.pk}/remove/")
    assert response["Location"].startswith(STEP_UP)
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()


# ------------------------------------------------------------- row 12: session key rotation
def test_row12_webauthn_mfa_success_rotates_the_session_key(client, clock, make_mfa_app_all_kinds):
    _, _, user = make_mfa_app_all_kinds()
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    sign_in(client, user.email, PW)
    _challenge(client)
    before = client.session.session_key
    response = _wa_assert(client, fake)
    assert response.json()["ok"] is True
    assert client.session.session_key != before
    assert client.get(APP).status_code == 200


def test_row12_webauthn_step_up_rotates_the_session_key(client, clock, make_mfa_app_all_kinds):
    _, _, user = make_mfa_app_all_kinds()
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    client.force_login(user)
    before = client.session.session_key
    options = client.post(STEP_UP_OPTIONS).json()["options"]
    assert _json(client, STEP_UP_VERIFY, {"credential": fake.assert_(options, origin=ORIGIN)}).json()["ok"]
    assert client.session.session_key != before
    assert client.get("/AddMfaDevice").status_code == 200


def test_row12_the_old_session_key_is_dead_after_mfa(client, clock, make_mfa_app_all_kinds):
    """A fixated or stolen pre-MFA session cookie gets nothing from the victim's MFA."""
    _, _, user = make_mfa_app_all_kinds()
    _, otp = enroll_totp(user)
    sign_in(client, user.email, PW)
    _challenge(client)
    stolen = client.session.session_key
    clock.advance(seconds=31)
    assert client.post(VERIFY, {"code": code_at(otp)})["Location"] == APP
    attacker = Client()
    attacker.cookies["sessionid"] = stolen
    response = attacker.get(APP)
    assert response.status_code == 302 and not response["Location"].startswith(APP)


# ------------------------------------------------------------------------ row 16: no bypass
def test_row16_the_admin_login_form_cannot_skip_mfa(client, clock, demo):
    from accounts.models import User

    enroll_totp(User.objects.get(email="admin@demo.test"))
    response = client.post("/admin/login/?next=/admin/", {"username": "admin@demo.test", "password": "demo-password",
                                                           "next": "/admin/"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/accounts/user/")["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("method", ["get", "post", "head", "put", "delete", "options"])
def test_row16_every_admin_page_and_method_needs_mfa_in_the_demo_configuration(client, clock, demo, method):
    from accounts.models import User

    admin = User.objects.get(email="admin@demo.test")
    authenticator, _ = enroll_totp(admin)
    sign_in(client, admin.email)
    paths = ["/admin/", "/admin/login/", "/admin/logout/", "/admin/password_change/", "/admin/accounts/user/",
             f"/admin/accounts/user/{admin.pk}/change/", f"/admin/accounts/user/{admin.pk}/password/",
             f"/admin/accounts/user/{admin.pk}/mfa-devices/{authenticator.pk}/delete/",
             "/admin/accounts/auditevent/", "/admin/mfa_policies/organization/",
             "/admin/mfa_policies/application/policy-tester/", "/admin/jsi18n/", "/admin//accounts/user/",
             "/admin/%2e%2e/", "/ADMIN/"]
    for path in paths:
        response = getattr(client, method)(path)
        if path == "/ADMIN/":
            assert response.status_code == 404  # no such page (paths are case-sensitive)
            continue
        assert response.status_code == 302 and response["Location"].startswith(VERIFY), (path, response.status_code)
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()


# ------------------------------------------------------------- row 22: every `next` consumer
@pytest.mark.parametrize("payload", EVIL)
def test_row22_step_up_next_stays_on_site(client, clock, make_mfa_app_all_kinds, payload):
    _, _, user = make_mfa_app_all_kinds()
    _, otp = enroll_totp(user)
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    client.force_login(user)
    page = client.get(STEP_UP, {"next": payload})
    assert payload not in page.content.decode()
    response = client.post(STEP_UP, {"code": code_at(otp), "next": payload})
    assert response.status_code == 302 and response["Location"] == "/account/mfa-devices/"
    options = client.post(STEP_UP_OPTIONS).json()["options"]
    body = _json(client, STEP_UP_VERIFY, {"credential": fake.assert_(options, origin=ORIGIN), "next": payload}).json()
    assert body["ok"] and body["redirect"] == "/account/mfa-devices/"


@pytest.mark.parametrize("payload", EVIL)
def test_row22_enrollment_next_stays_on_site(client, clock, make_mfa_app_all_kinds, payload):
    _, _, user = make_mfa_app_all_kinds()
    client.force_login(user)
    page = client.get("/AddMfaDevice", {"next": payload})
    assert page.status_code == 200
    assert all(option["url"].startswith("/account/mfa-devices/add/") and "next=" not in option["url"]
               for option in page.context["options"])
    assert client.get("/account/mfa-devices/add/security-key/", {"next": payload}).context["next"] is None
    options = _json(client, REGISTER_OPTIONS, {"kind": c.SECURITY_KEY}).json()["options"]
    body = _json(client, REGISTER_VERIFY, {"credential": FakeAuthenticator().register(options, origin=ORIGIN),
                                           "next": payload}).json()
    assert body["ok"] and body["redirect"] == "/account/mfa-devices/"


@pytest.mark.parametrize("payload", EVIL)
def test_row22_the_login_page_next_stays_on_site(client, clock, make_mfa_app_all_kinds, payload):
    _, _, user = make_mfa_app_all_kinds()
    response = client.post(f"/accounts/login/?next={payload}", {"login": user.email, "password": PW})
    assert response.status_code == 302
    assert response["Location"].startswith("/") and not response["Location"].startswith("//")
    assert "evil" not in response["Location"]


def test_row22_a_webauthn_challenge_success_goes_to_the_pending_app_only(client, clock, make_mfa_app_all_kinds):
    _, _, user = make_mfa_app_all_kinds()
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    sign_in(client, user.email, PW)
    _challenge(client)
    session = client.session
    session["mfagate.pending"]["next"] = "//evil.com"
    session.save()
    options = client.post(f"{WA_OPTIONS}?kind={c.SECURITY_KEY}&next=//evil.com").json()["options"]
    body = _json(client, f"{WA_VERIFY}?kind={c.SECURITY_KEY}&next=//evil.com",
                 {"credential": fake.assert_(options, origin=ORIGIN), "next": "//evil.com"}).json()
    assert body["ok"] and body["redirect"] == "/"


# ------------------------------------------------------ row 23: the pending-MFA session
def test_row23_no_session_value_holds_the_password_while_mfa_is_pending(client, clock, make_mfa_app_all_kinds):
    password = "An-Unmistakable-Passw0rd!"
    _, _, user = make_mfa_app_all_kinds()
    user.set_password(password)
    user.save()
    enroll_totp(user)
    client.post("/accounts/login/", {"login": user.email, "password": password})
    _challenge(client)
    session = client.session
    assert "mfagate.pending" in session  # the state this row is about exists
    everything = json.dumps({k: session[k] for k in session.keys()}, default=str)
    assert password not in everything and password.lower() not in everything.lower()
    raw = Session.objects.get(session_key=session.session_key)
    assert password not in json.dumps(raw.get_decoded(), default=str) and password not in raw.session_data


def test_row23_a_pending_login_older_than_ten_minutes_restarts_even_with_a_valid_code(client, clock,
                                                                                       make_mfa_app_all_kinds):
    _, _, user = make_mfa_app_all_kinds()
    _, otp = enroll_totp(user)
    sign_in(client, user.email, PW)
    _challenge(client)
    clock.advance(minutes=10, seconds=1)
    response = client.post(VERIFY, {"code": code_at(otp)})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "mfagate.pending" not in client.session and "mfagate.mfa" not in client.session
    assert client.get(APP)["Location"].startswith(VERIFY)  # starts over
    assert client.post(VERIFY, {"code": code_at(otp)})["Location"] == APP  # the unused code works now


def test_row23_logout_clears_the_pending_login(client, clock, make_mfa_app_all_kinds):
    _, _, user = make_mfa_app_all_kinds()
    _, otp = enroll_totp(user)
    sign_in(client, user.email, PW)
    _challenge(client)
    assert "mfagate.pending" in client.session
    client.post("/accounts/logout/")
    assert "mfagate.pending" not in client.session and "mfagate.sign_in" not in client.session
    clock.advance(seconds=31)
    response = client.post(VERIFY, {"code": code_at(otp)})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get(APP)["Location"].startswith("/accounts/login/")


# ---------------------------------------------------------- row 24: biometrics need UV
@pytest.fixture
def biometrics_user(make_mfa_app_all_kinds):
    _, _, user = make_mfa_app_all_kinds(policy_fields={"mfa_mode": c.MODE_CUSTOM,
                                                       "mfa_allowed_authenticators": [c.BIOMETRICS],
                                                       "mfa_session_duration": "1h"})
    fake = FakeAuthenticator(attachment="platform", transports=["internal"])
    enroll_webauthn(user, fake, kind=c.BIOMETRICS)
    return user, fake


def test_row24_a_platform_assertion_without_uv_is_refused_at_the_challenge(client, clock, biometrics_user):
    user, fake = biometrics_user
    sign_in(client, user.email, PW)
    _challenge(client)
    refused = _wa_assert(client, fake, kind=c.BIOMETRICS, uv=False)
    assert refused.status_code == 400 and "user verification" in refused.json()["error"]
    assert client.get(APP)["Location"].startswith(VERIFY)
    assert _wa_assert(client, fake, kind=c.BIOMETRICS).json()["ok"] is True


def test_row24_a_platform_assertion_without_uv_is_refused_at_step_up(client, clock, biometrics_user):
    user, fake = biometrics_user
    client.force_login(user)
    options = client.post(STEP_UP_OPTIONS).json()["options"]
    assert options["userVerification"] == "required"
    refused = _json(client, STEP_UP_VERIFY, {"credential": fake.assert_(options, origin=ORIGIN, uv=False)})
    assert refused.status_code == 400 and "user verification" in refused.json()["error"]
    assert "mfagate.step_up" not in client.session
    assert client.get("/AddMfaDevice")["Location"].startswith(STEP_UP)


# ------------------------------------------------------------ WebAuthn authentication steps
KEYS = [c.SECURITY_KEY, c.BIOMETRICS]


def test_webauthn_an_owned_credential_left_out_of_allow_credentials_is_refused(make_user, clock):
    user = make_user()
    first = FakeAuthenticator()
    enroll_webauthn(user, first)
    request = session_request(user)
    options = webauthn_assertion_options(request=request, user=user, kinds=KEYS, purpose="mfa")
    late = FakeAuthenticator()
    enroll_webauthn(user, late)  # registered after the options were sent: not in allowCredentials
    with pytest.raises(VerificationError) as refused:
        webauthn_assertion_verify(request=request, user=user, kinds=KEYS, purpose="mfa",
                                  credential=late.assert_(options, origin=ORIGIN))
    assert refused.value.reason == "webauthn_unknown_credential"


def test_webauthn_a_credential_swapped_into_another_users_options_is_refused(make_user, clock):
    """w3c/webauthn #753: the options name Alice's key; Mallory answers with her own key's id."""
    alice, mallory = make_user(), make_user()
    enroll_webauthn(alice, FakeAuthenticator())
    mallory_key = FakeAuthenticator()
    enroll_webauthn(mallory, mallory_key)
    request = session_request(alice)
    options = webauthn_assertion_options(request=request, user=alice, kinds=KEYS, purpose="mfa")
    options["allowCredentials"] = [{"id": mallory_key.id, "type": "public-key"}]
    with pytest.raises(VerificationError) as refused:
        webauthn_assertion_verify(request=request, user=alice, kinds=KEYS, purpose="mfa",
                                  credential=mallory_key.assert_(options, origin=ORIGIN))
    assert refused.value.reason == "webauthn_unknown_credential"


@pytest.mark.parametrize("count", [0, 1, 2])
def test_webauthn_a_sign_count_that_does_not_increase_is_refused_and_logged(make_user, clock, caplog, count):
    user = make_user()
    fake = FakeAuthenticator()
    authenticator = enroll_webauthn(user, fake)
    Authenticator.objects.filter(pk=authenticator.pk).update(sign_count=2)
    request = session_request(user)
    options = webauthn_assertion_options(request=request, user=user, kinds=KEYS, purpose="mfa")
    with caplog.at_level(logging.WARNING, logger="mfagate"):
        with pytest.raises(VerificationError) as refused:
            webauthn_assertion_verify(request=request, user=user, kinds=KEYS, purpose="mfa",
                                      credential=fake.assert_(options, origin=ORIGIN, sign_count=count))
    assert refused.value.reason == "webauthn_sign_count"
    assert "sign count" in caplog.text.lower()
    assert Authenticator.objects.get(pk=authenticator.pk).sign_count == 2


def test_webauthn_zero_sign_counts_on_both_sides_are_accepted(make_user, clock):
    """Authenticators without a counter (passkeys) always send 0: not a clone signal."""
    user = make_user()
    fake = FakeAuthenticator()
    authenticator = enroll_webauthn(user, fake)
    Authenticator.objects.filter(pk=authenticator.pk).update(sign_count=0)
    request = session_request(user)
    options = webauthn_assertion_options(request=request, user=user, kinds=KEYS, purpose="mfa")
    webauthn_assertion_verify(request=request, user=user, kinds=KEYS, purpose="mfa",
                              credential=fake.assert_(options, origin=ORIGIN, sign_count=0))


def test_webauthn_backup_eligibility_dropped_since_registration_is_refused(make_user, clock):
    user = make_user()
    fake = FakeAuthenticator()
    authenticator = enroll_webauthn(user, fake, be=True, bs=True)
    assert authenticator.backup_eligible and authenticator.backup_state
    request = session_request(user)
    options = webauthn_assertion_options(request=request, user=user, kinds=KEYS, purpose="mfa")
    with pytest.raises(VerificationError) as refused:
        webauthn_assertion_verify(request=request, user=user, kinds=KEYS, purpose="mfa",
                                  credential=fake.assert_(options, origin=ORIGIN, be=False))
    assert refused.value.reason == "webauthn_backup_changed"


def test_webauthn_an_assertion_of_type_create_is_refused(make_user, clock):
    user = make_user()
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    request = session_request(user)
    options = webauthn_assertion_options(request=request, user=user, kinds=KEYS, purpose="mfa")
    with pytest.raises(VerificationError):
        webauthn_assertion_verify(request=request, user=user, kinds=KEYS, purpose="mfa",
                                  credential=fake.assert_(options, origin=ORIGIN, client_type="webauthn.create"))
    with pytest.raises(VerificationError):  # and without user presence
        options = webauthn_assertion_options(request=request, user=user, kinds=KEYS, purpose="mfa")
        webauthn_assertion_verify(request=request, user=user, kinds=KEYS, purpose="mfa",
                                  credential=fake.assert_(options, origin=ORIGIN, up=False))


# -------------------------------------------------------------- WebAuthn registration steps
@pytest.fixture
def enroller(client, make_mfa_app_all_kinds):
    _, _, user = make_mfa_app_all_kinds()
    client.force_login(user)
    return client, user


def _reg_options(client, kind=c.SECURITY_KEY):
    return _json(client, REGISTER_OPTIONS, {"kind": kind}).json()["options"]


def test_registration_challenges_are_random_and_at_least_16_bytes(enroller, clock):
    client, _ = enroller
    challenges = {_reg_options(client)["challenge"] for _ in range(5)}
    assert len(challenges) == 5
    assert all(len(webauthn_fakes.unb64url(ch)) >= 16 for ch in challenges)
    assert dt.timedelta(minutes=5) <= wa.CHALLENGE_TTL <= dt.timedelta(minutes=10)


def test_a_registration_challenge_expires(enroller, clock):
    client, _ = enroller
    options = _reg_options(client)
    clock.advance(seconds=wa.CHALLENGE_TTL.total_seconds() + 1)
    response = _json(client, REGISTER_VERIFY, {"credential": FakeAuthenticator().register(options, origin=ORIGIN)})
    assert response.status_code == 400 and "expired" in response.json()["error"]
    assert not Authenticator.objects.exists()


def test_a_public_key_algorithm_not_offered_is_refused(enroller, clock, monkeypatch):
    client, _ = enroller
    options = _reg_options(client)
    assert -35 not in [p["alg"] for p in options["pubKeyCredParams"]]
    real = webauthn_fakes._cose
    monkeypatch.setattr(webauthn_fakes, "_cose", lambda key: real(key).replace(b"\x03\x26", b"\x03\x38\x22"))
    response = _json(client, REGISTER_VERIFY, {"credential": FakeAuthenticator().register(options, origin=ORIGIN)})
    assert response.status_code == 400 and response.json()["ok"] is False
    assert not Authenticator.objects.exists()


def test_a_credential_id_over_1023_bytes_is_refused(enroller, clock):
    client, _ = enroller
    fake = FakeAuthenticator()
    response = _json(client, REGISTER_VERIFY, {"credential": fake.register(
        _reg_options(client), origin=ORIGIN, credential_id=b"\x01" * 1024)})
    assert response.status_code == 400 and not Authenticator.objects.exists()
    ok = _json(client, REGISTER_VERIFY, {"credential": FakeAuthenticator().register(
        _reg_options(client), origin=ORIGIN, credential_id=b"\x02" * 1023)})
    assert ok.json()["ok"] is True


def test_registration_stores_public_key_sign_count_transports_be_and_bs(enroller, clock):
    client, user = enroller
    fake = FakeAuthenticator(transports=["usb", "nfc", "bogus"])
    assert _json(client, REGISTER_VERIFY, {"credential": fake.register(
        _reg_options(client), origin=ORIGIN, be=True, bs=True)}).json()["ok"]
    stored = Authenticator.objects.get(user=user)
    assert stored.credential_id == fake.id and stored.sign_count == 1
    assert stored.transports == ["usb", "nfc"]
    assert stored.backup_eligible is True and stored.backup_state is True
    from cryptography.hazmat.primitives import serialization  # noqa: F401  (the key decodes)
    from webauthn.helpers import decode_credential_public_key

    decoded = decode_credential_public_key(bytes(stored.public_key))
    assert decoded.x == fake.key.public_key().public_numbers().x.to_bytes(32, "big")


def test_the_same_registration_response_posted_twice_fails_even_without_a_device(enroller, clock):
    """django-mfa2 CVE-2022-42731 on a first enrollment (no step-up in the way)."""
    client, user = enroller
    response = FakeAuthenticator().register(_reg_options(client), origin=ORIGIN)
    assert _json(client, REGISTER_VERIFY, {"credential": response}).json()["ok"]
    Authenticator.objects.all().delete()  # even once the first credential is gone
    second = _json(client, REGISTER_VERIFY, {"credential": response})
    assert second.status_code == 400 and "already used" in second.json()["error"]
    assert not Authenticator.objects.exists()


# ------------------------------------------------------------------ RFC 6238 Appendix B
RFC6238 = [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"), (1234567890, "89005924"),
           (2000000000, "69279037"), (20000000000, "65353130")]


@pytest.mark.parametrize("unix,eight", RFC6238)
def test_rfc6238_appendix_b_vectors(clock, unix, eight):
    from django_otp.oath import TOTP

    key = b"12345678901234567890"
    clock.set(dt.datetime.fromtimestamp(unix, tz=dt.timezone.utc))
    generator = TOTP(key, step=30, t0=0, digits=8, drift=0)
    generator.time = unix
    assert f"{generator.token():08d}" == eight
    six = eight[-6:]
    found = totp.match_code(key_hex=key.hex(), code=six)
    assert found is not None and found.t == unix // 30
    if six.startswith("0"):
        assert totp.match_code(key_hex=key.hex(), code=six.lstrip("0")) is None
        assert totp.match_code(key_hex=key.hex(), code=str(int(six)).rjust(6, " ")) is None
