"""Issue 11's end-user polish in a real browser (headless Debian Chromium): the setup key's copy
button, the confirmation before removing a device, and the challenge's wording — each at 375 px
and at desktop width, under the strict CSP with no violation."""

from __future__ import annotations

import pytest

from accounts.models import User
from enrollment.messages import MESSAGES
from enrollment.models import Authenticator
from mfa_policies.messages import message
from tests.support.authenticators import code_at, enroll_totp

from .support import SECURITY_KEY, TIMEOUT_MS, open_as, register, shot
from .test_csp_browser import Violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1280, "height": 900}


def _sign_in(page, site, email, next_path):
    page.goto(f"{site}{next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", "demo-password")
    page.click("main form button[type=submit]")


def test_the_copy_button_puts_the_setup_key_on_the_clipboard(browser, site, member, clock):
    page = open_as(browser, site, member)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    violations = Violations(page.context, page)
    page.goto(f"{site}/account/mfa-devices/add/totp/")
    button = page.get_by_role("button", name="Copy setup key")
    assert button.is_visible(), "the script shows the button once it is wired"
    shown_key = page.inner_text("#setup-key").replace(" ", "").strip()
    button.click()
    status = page.locator("#copy-setup-key-status")
    status.wait_for(state="visible")
    page.wait_for_function("document.getElementById('copy-setup-key-status').textContent.length > 0")
    assert status.inner_text() == MESSAGES["browser_copied"]
    assert page.evaluate("navigator.clipboard.readText()") == shown_key
    assert page.evaluate("document.querySelector('label[for=id_name]').compareDocumentPosition("
                         "document.querySelector('label[for=id_code]')) & Node.DOCUMENT_POSITION_FOLLOWING"), \
        "the device name is asked before the code"
    assert page.evaluate("window.scrollY") == 0, "the page opens on the QR code, not scrolled to a field"
    shot(page, "polish-01-totp-copy-375")
    page.set_viewport_size(DESKTOP)
    shot(page, "polish-02-totp-copy-desktop")
    page.wait_for_timeout(200)
    assert violations.seen == []


def test_a_refused_clipboard_says_so_and_leaves_the_key_selected(browser, site, member, clock):
    page = open_as(browser, site, member)
    page.goto(f"{site}/account/mfa-devices/add/totp/")
    # A browser that refuses both ways of copying (a policy, an old browser).
    page.evaluate("navigator.clipboard.writeText = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));"
                  "document.execCommand = () => false;")
    page.get_by_role("button", name="Copy setup key").click()
    page.wait_for_function("document.getElementById('copy-setup-key-status').textContent.length > 0")
    assert page.inner_text("#copy-setup-key-status") == MESSAGES["browser_copy_failed"]
    assert page.evaluate("window.getSelection().toString()").replace(" ", "").strip() == \
        page.inner_text("#setup-key").replace(" ", "").strip()


def test_without_javascript_the_key_is_there_and_no_dead_button(browser, site, member, clock):
    from django.conf import settings as django_settings
    from django.test import Client

    client = Client()
    client.force_login(member)
    context = browser.new_context(viewport={"width": 375, "height": 812}, java_script_enabled=False)
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value, "url": site}])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{site}/account/mfa-devices/add/totp/")
    assert page.locator("#setup-key").is_visible()
    assert not page.locator("#copy-setup-key").is_visible()
    context.close()


def test_removing_a_device_asks_to_confirm_and_names_it(browser, site, member, clock):
    phone, otp = enroll_totp(member, name="Phone")
    page = open_as(browser, site, member, SECURITY_KEY)
    violations = Violations(page.context, page)
    page.goto(f"{site}/AddMfaDevice")
    page.fill("input[name=code]", code_at(otp))  # step-up
    page.click("button:has-text('Verify')")
    page.wait_for_url(f"{site}/AddMfaDevice")
    register(page, site, "Security key", name="YubiKey 5")
    page.wait_for_url(f"{site}/account/mfa-devices/")
    key = Authenticator.objects.get(user=member, name="YubiKey 5")

    row = page.locator(f"tr[data-device='{key.pk}']")
    row.locator("summary").click()
    row.get_by_role("link", name="Remove MFA device").click()
    page.wait_for_url(f"{site}/account/mfa-devices/{key.pk}/remove/")
    assert page.inner_text("h1") == "Remove “YubiKey 5”?"
    shot(page, "polish-03-remove-confirm-375")
    page.set_viewport_size(DESKTOP)
    shot(page, "polish-04-remove-confirm-desktop")
    page.set_viewport_size({"width": 375, "height": 812})

    page.get_by_role("link", name="Cancel").click()  # changing one's mind removes nothing
    page.wait_for_url(f"{site}/account/mfa-devices/")
    assert Authenticator.objects.filter(pk=key.pk).exists()

    row.locator("summary").click()
    row.get_by_role("link", name="Remove MFA device").click()
    page.get_by_role("button", name="Remove MFA device").click()
    page.wait_for_url(f"{site}/account/mfa-devices/")
    assert page.locator(".messages").inner_text() == "“YubiKey 5” was removed from your MFA devices."
    assert not Authenticator.objects.filter(pk=key.pk).exists()
    assert Authenticator.objects.filter(pk=phone.pk).exists()
    shot(page, "polish-05-removed-375")

    page.goto(f"{site}/account/mfa-devices/{key.pk}/remove/")  # an old link to the confirmation
    assert page.inner_text("h1") == "MFA device not found"
    assert MESSAGES["device_not_found"] in page.inner_text("main")
    shot(page, "polish-08-remove-not-found-375")
    page.wait_for_timeout(200)
    assert violations.seen == []


def test_the_challenge_says_what_the_application_accepts_and_what_to_do_without(browser, site, demo, clock):
    user = User.objects.get(email="other@demo.test")
    _, otp = enroll_totp(user, name="Phone")
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    violations = Violations(context, page)
    _sign_in(page, site, "other@demo.test", "/demo/a/")
    page.wait_for_url("**/mfa/verify/?next=%2Fdemo%2Fa%2F")
    assert page.inner_text("#challenge-accepts") == (
        "“Application A” accepts an authenticator application, a security key or biometrics. "
        "Verify with one of your MFA devices to continue.")
    none_of_these = page.locator("section.none-of-these")
    assert none_of_these.locator("h2").inner_text() == "Don't have any of these with you?"
    assert message("challenge_none_add", app="Application A") in none_of_these.inner_text()
    assert message("challenge_none_admin") in none_of_these.inner_text()
    shot(page, "polish-06-challenge-375")
    page.set_viewport_size(DESKTOP)
    shot(page, "polish-07-challenge-desktop")

    none_of_these.get_by_role("link", name="Add an MFA device").click()
    page.wait_for_url("**/account/mfa-devices/verify/?next=%2FAddMfaDevice%3Fnext%3D%252Fdemo%252Fa%252F")
    page.fill("input[name=code]", code_at(otp))
    page.click("button:has-text('Verify')")
    page.wait_for_url(f"{site}/AddMfaDevice?next=%2Fdemo%2Fa%2F")  # adding one for Application A
    page.wait_for_timeout(200)
    assert violations.seen == []
    context.close()


def test_the_favicon_loads_in_the_browser(browser, site, db):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{site}/accounts/login/")
    for href in page.eval_on_selector_all("link[rel~=icon], link[rel=apple-touch-icon]", "els => els.map(e => e.href)"):
        response = page.request.get(href)
        assert response.status == 200 and response.headers["content-type"].startswith("image/"), href
    assert page.request.get(f"{site}/favicon.ico").status == 200
    context.close()
