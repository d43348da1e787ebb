"""The MFA challenge says which kinds this application accepts and what to do with none of them
at hand (issue 11, end-user polish; seed 002 "Lockout recovery")."""

from __future__ import annotations

import html
import re

import pytest

from accounts.models import User
from mfa_policies import constants as c
from mfa_policies.messages import MESSAGES, kinds_phrase, message
from tests.support.authenticators import enroll_totp, enroll_webauthn
from tests.support.signin import sign_in
from tests.support.webauthn_fakes import FakeAuthenticator


@pytest.mark.parametrize("kinds, phrase", [
    ({c.TOTP}, "an authenticator application"),
    ({c.SECURITY_KEY}, "a security key"),
    ({c.BIOMETRICS}, "biometrics"),
    ({c.SECURITY_KEY, c.TOTP}, "an authenticator application or a security key"),
    ((c.BIOMETRICS, c.SECURITY_KEY, c.TOTP), "an authenticator application, a security key or biometrics"),
    ((), "no method"),
])
def test_kinds_read_as_a_sentence_in_the_canonical_order(kinds, phrase):
    assert kinds_phrase(kinds) == phrase


def _challenge_page(client, path="/demo/a/"):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/"), response
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.content.decode()


def _lead(page):
    return html.unescape(re.search(r'<p class="lead" id="challenge-accepts">(.*?)</p>', page, re.S).group(1))


@pytest.mark.django_db
def test_a_security_key_only_policy_says_so(client, demo, clock):
    user = User.objects.get(email="p1@demo.test")
    enroll_webauthn(user, FakeAuthenticator(), name="Desk key")
    sign_in(client, "p1@demo.test")
    page = _challenge_page(client)
    assert _lead(page) == "“Application A” accepts a security key. Verify with one of your MFA devices to continue."


@pytest.mark.django_db
def test_the_organizations_methods_are_named_with_their_articles(client, demo, clock):
    enroll_totp(User.objects.get(email="other@demo.test"))
    sign_in(client, "other@demo.test")
    page = _challenge_page(client)
    assert _lead(page).startswith(
        "“Application A” accepts an authenticator application, a security key or biometrics.")


@pytest.mark.django_db
def test_an_application_with_custom_methods_names_them(client, demo, clock):
    """The brief's example: an application that accepts two kinds."""
    from mfa_policies.models import Application
    from mfa_policies.services import application_save

    app = Application.objects.get(name="Application B")
    app.name, app.mfa_mode = "Demo App B", c.MODE_CUSTOM
    app.mfa_allowed_authenticators, app.mfa_session_duration = [c.TOTP, c.SECURITY_KEY], "1h"
    application_save(acting_user=None, instance=app, policies=[(p, i) for i, p in enumerate(app.policies.all(), 1)])
    enroll_totp(User.objects.get(email="other@demo.test"))
    sign_in(client, "other@demo.test")
    page = _challenge_page(client, "/demo/b/")
    assert _lead(page).startswith("“Demo App B” accepts an authenticator application or a security key.")


@pytest.mark.django_db
def test_without_any_of_them_add_one_for_this_application_or_ask_an_administrator(client, demo, clock):
    user = User.objects.get(email="p1@demo.test")
    enroll_webauthn(user, FakeAuthenticator(), name="Desk key")
    sign_in(client, "p1@demo.test")
    page = _challenge_page(client)
    assert html.escape(MESSAGES["challenge_none_title"]) in page
    assert html.escape(message("challenge_none_add", app="Application A")) in page
    assert html.escape(MESSAGES["challenge_none_admin"]) in page
    link = re.search(r'<a class="btn secondary" href="([^"]+)">Add an MFA device</a>', page)
    assert link and html.unescape(link.group(1)) == "/AddMfaDevice?next=%2Fdemo%2Fa%2F"
    follow = client.get(html.unescape(link.group(1)))
    assert follow.status_code == 302 and follow["Location"].startswith("/account/mfa-devices/verify/"), \
        "adding a device asks for a verification with a current one first"


@pytest.mark.django_db
def test_the_enroll_link_goes_back_to_the_application_not_to_a_next_from_the_address(client, demo, clock):
    enroll_totp(User.objects.get(email="other@demo.test"))
    sign_in(client, "other@demo.test")
    client.get("/demo/a/")
    for evil in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        page = client.get("/mfa/verify/", {"next": evil}).content.decode()
        link = html.unescape(re.search(r'href="(/AddMfaDevice\?[^"]+)"', page).group(1))
        assert link == "/AddMfaDevice?next=%2Fdemo%2Fa%2F" and "evil" not in link


@pytest.mark.django_db
def test_the_wording_keeps_markup_in_an_application_name_as_text(client, demo, clock):
    from mfa_policies.models import Application
    from mfa_policies.services import application_save

    app = Application.objects.get(name="Application A")
    app.name = "<b>A</b> & Co"
    application_save(acting_user=None, instance=app,
                     policies=[(ap.policy, ap.precedence) for ap in app.app_policies.all()])
    enroll_totp(User.objects.get(email="other@demo.test"))
    sign_in(client, "other@demo.test")
    page = _challenge_page(client)
    assert "<b>A</b>" not in page and "&lt;b&gt;A&lt;/b&gt; &amp; Co" in page
