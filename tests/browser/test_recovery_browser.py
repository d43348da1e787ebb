"""Issue 11's "done when", in a real browser: a user who lost their phone but kept their recovery
codes gets back in and enrolls a new authenticator without an administrator; then regenerates
the codes, and the old ones are refused."""

from __future__ import annotations

import re

import pytest

from accounts.models import AuditEvent, User
from enrollment import recovery
from enrollment.models import Authenticator
from mfa_policies import constants as c
from tests.support.authenticators import code_at, enroll_totp

from .support import SECURITY_KEY, SHOTS, TIMEOUT_MS, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EMAIL = "other@demo.test"  # Application A: authenticator application or security key
CODE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


def _sign_in(page, site, next_path):
    page.goto(f"{site}/accounts/login/?next={next_path}")
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", "demo-password")
    page.click("main form button[type=submit]")


def _sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


def _both_widths(page, name):
    shot(page, f"{name}-375")
    page.set_viewport_size(DESKTOP)
    shot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)


def _new_codes(page):
    codes = page.locator("ol.recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and all(CODE.match(code) for code in codes), codes
    return codes


def test_lost_phone_recovery_code_new_key_then_regenerate(browser, site, demo, clock):
    user = User.objects.get(email=EMAIL)
    _, phone = enroll_totp(user, name="Phone")  # the phone that will be lost
    context = browser.new_context(viewport=PHONE, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": SECURITY_KEY})  # the new key, for later

    # 1. With the phone: generate codes (step-up first), save them.
    _sign_in(page, site, "/account/recovery-codes/")
    page.wait_for_url(f"{site}/account/recovery-codes/")
    assert "You have not generated recovery codes yet." in page.inner_text("main")
    _both_widths(page, "recovery-40-codes-page-empty")
    page.get_by_role("button", name="Generate recovery codes").click()
    page.wait_for_url("**/account/mfa-devices/verify/?next=%2Faccount%2Frecovery-codes%2F")
    page.fill("input[name=code]", code_at(phone))
    page.get_by_role("button", name="Verify", exact=True).click()
    page.wait_for_url(f"{site}/account/recovery-codes/")
    page.get_by_role("button", name="Generate recovery codes").click()
    page.wait_for_url(f"{site}/account/recovery-codes/generate/")
    codes = _new_codes(page)
    assert "shown only once" in page.inner_text(".messages")
    page.get_by_role("button", name="Copy codes").click()
    page.wait_for_selector("#recovery-status:not([hidden])")
    assert "Copied" in page.inner_text("#recovery-status")
    assert page.evaluate("navigator.clipboard.readText()").split("\n")[3:13] == codes
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download as text").click()
    download = download_info.value
    assert download.suggested_filename == "mfagate-recovery-codes.txt"
    saved = (SHOTS / "recovery-codes.txt")
    SHOTS.mkdir(parents=True, exist_ok=True)
    download.save_as(saved)
    assert all(code in saved.read_text() for code in codes) and EMAIL in saved.read_text()
    _both_widths(page, "recovery-41-new-codes")
    page.goto(f"{site}/account/recovery-codes/")
    assert "10 of 10" in page.inner_text("main") and codes[0] not in page.content()
    _both_widths(page, "recovery-42-codes-page")
    _sign_out(page)

    # 2. The phone is lost. Sign in, and at Application A's challenge use a recovery code.
    _sign_in(page, site, "/demo/a/")
    page.wait_for_url("**/mfa/verify/?next=%2Fdemo%2Fa%2F")
    _both_widths(page, "recovery-43-challenge-with-recovery-link")
    page.get_by_role("link", name="Use a recovery code").click()
    page.wait_for_url("**/mfa/verify/recovery/?next=%2Fdemo%2Fa%2F")
    _both_widths(page, "recovery-44-recovery-form")
    page.fill("input[name=code]", "ZZZZ-ZZZZ-ZZZZ-ZZZY" if "ZZZZ-ZZZZ-ZZZZ-ZZZY" not in codes else "ZZZZ-ZZZZ-ZZZZ-ZZZX")
    page.get_by_role("button", name="Use recovery code").click()
    assert "That recovery code is not valid" in page.inner_text(".errorlist")
    _both_widths(page, "recovery-45-recovery-form-wrong-code")
    clock.advance(seconds=1)
    page.fill("input[name=code]", codes[0].lower().replace("-", " "))
    page.get_by_role("button", name="Use recovery code").click()
    page.wait_for_url("**/AddMfaDevice?next=%2Fdemo%2Fa%2F")
    assert "Recovery code accepted (9 left)" in page.inner_text(".messages")
    _both_widths(page, "recovery-46-add-after-recovery")

    # 3. Enroll a new security key; that verification lets the user into Application A.
    page.get_by_role("link", name="Security key").click()
    page.fill("#device-name", "New key")
    page.click("#webauthn-register-button")
    page.wait_for_url(f"{site}/demo/a/")
    assert "Application A" in page.inner_text("h1")
    shot(page, "recovery-47-application-a")
    assert Authenticator.objects.filter(user=user, kind=c.SECURITY_KEY, name="New key").exists()

    # 4. Regenerate (the enrollment opened the step-up window): the old codes die.
    page.goto(f"{site}/account/recovery-codes/")
    assert "9 of 10" in page.inner_text("main") and "stop working at once" in page.inner_text("main")
    page.get_by_role("button", name="Regenerate recovery codes").click()
    page.wait_for_url(f"{site}/account/recovery-codes/generate/")
    new_codes = _new_codes(page)
    assert set(new_codes).isdisjoint(codes)
    _sign_out(page)

    _sign_in(page, site, "/demo/a/")
    page.wait_for_url("**/mfa/verify/?next=%2Fdemo%2Fa%2F")
    page.get_by_role("link", name="Use a recovery code").click()
    page.fill("input[name=code]", codes[1])
    page.get_by_role("button", name="Use recovery code").click()
    assert "That recovery code is not valid" in page.inner_text(".errorlist")
    shot(page, "recovery-48-old-code-refused-375")
    assert recovery.remaining(user) == 10
    actions = list(AuditEvent.objects.filter(subject_user=user, action__startswith="recovery")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["recovery_codes.generated", "recovery_code.rejected", "recovery_code.used",
                       "recovery_codes.generated", "recovery_code.rejected"]
    context.close()


def test_the_page_explains_when_the_organization_turned_codes_off(browser, site, demo, clock):
    from mfa_policies.models import Organization

    from .support import open_as

    user = User.objects.get(email=EMAIL)
    enroll_totp(user, name="Phone")
    Organization.objects.filter(name="Demo").update(recovery_codes_enabled=False)
    page = open_as(browser, site, user)
    page.goto(f"{site}/")
    assert "Recovery codes — turned off." in page.inner_text("main")
    shot(page, "recovery-49-launcher-codes-off-375")
    page.goto(f"{site}/account/recovery-codes/")
    assert "Recovery codes are turned off by your organization “Demo”" in page.inner_text("main")
    assert page.get_by_role("button", name="Generate recovery codes").count() == 0
    _both_widths(page, "recovery-50-codes-off")
