"""The MFA challenge in a real browser: the demo's Policy 1 user (security key only, 1 h) enrolls a
key in the portal, opens Application A, and passes the challenge with it — by clicking."""

from __future__ import annotations

import pytest

from accounts.models import User
from enrollment.models import Authenticator

from .support import SECURITY_KEY, TIMEOUT_MS, register, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, site, email, next_path):
    page.goto(f"{site}{next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", "demo-password")
    page.click("main form button[type=submit]")


def test_policy_1_user_enrolls_a_key_and_passes_the_challenge_with_it(browser, site, demo, clock):
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": SECURITY_KEY})

    sign_in(page, site, "p1@demo.test", "/demo/a/")
    page.wait_for_url(f"{site}/AddMfaDevice?next=%2Fdemo%2Fa%2F")
    assert "security key" in page.locator(".messages").inner_text().lower(), "the message names the allowed kind"
    shot(page, "30-enroll-first")
    register(page, site, "Security key", name="Desk key")
    page.wait_for_url(f"{site}/account/mfa-devices/")
    # Registering the key was a verification with it (issue 11): Application A lets p1 in at once.
    page.goto(f"{site}/demo/a/")
    assert page.url == f"{site}/demo/a/"

    # The next sign-in starts without an MFA session: the challenge asks for the key.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    sign_in(page, site, "p1@demo.test", "/demo/a/")
    page.wait_for_url("**/mfa/verify/?next=%2Fdemo%2Fa%2F")
    assert page.locator("input[name=code]").count() == 0, "Policy 1 offers no authenticator application"
    shot(page, "31-challenge-security-key")
    page.get_by_role("button", name="Use your security key").click()
    page.wait_for_url(f"{site}/demo/a/")
    shot(page, "32-application-a")
    assert "Application A" in page.inner_text("h1")
    assert "Policy 1" in page.content()
    key = Authenticator.objects.get(user=User.objects.get(email="p1@demo.test"))
    assert key.sign_count >= 2 and key.last_used_at == clock.now

    clock.advance(hours=1, minutes=1)  # Policy 1: a new prompt after an hour, on the next login flow
    session_cookie = [c for c in context.cookies() if c["name"] == "sessionid"]
    assert session_cookie, "still signed in"
    page.goto(f"{site}/demo/b/")  # Application B: no MFA, straight through
    assert page.url == f"{site}/demo/b/"
    context.close()
