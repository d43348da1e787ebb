"""The enrollment grace period in a real browser: “Set up later” with what remains, clicked until
it runs out (by sign-ins, and by date), and the kinds the application accepts offered first."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from mfa_policies.models import Organization
from mfa_policies.services import configuration_save

from .support import SHOTS, TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENROLL = "/AddMfaDevice?next=%2Fdemo%2Fa%2F"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 860}
#: Also copied here, to be looked at (the artifacts folder is for CI).
EXTRA_SHOTS = Path(os.environ.get("MFAGATE_SHOTS_DIR", "/tmp"))


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if EXTRA_SHOTS.is_dir():
        page.screenshot(path=str(EXTRA_SHOTS / f"grace-{name}.png"), full_page=True)


def _grace(**fields):
    org = Organization.objects.get(name="Demo")
    for name, value in fields.items():
        setattr(org, name, value)
    configuration_save(acting_user=None, instance=org)


def _signed_in_at_app_a(browser, site, email, viewport=PHONE):
    """A new browser (a new sign-in) opening Application A: it is sent to enroll."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{site}/demo/a/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", "demo-password")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{site}{ENROLL}")
    return context, page


def test_two_sign_ins_of_grace_then_enrollment_is_required(browser, site, demo, clock):
    _grace(enrollment_grace_sign_ins=2)
    for left, words in ((2, "You can skip this 2 more times."), (1, "You can skip this 1 more time.")):
        context, page = _signed_in_at_app_a(browser, site, "other@demo.test")
        later = page.locator("#set-up-later")
        assert words in later.inner_text()
        if left == 2:
            _shot(page, "60-set-up-later-375")
        page.get_by_role("button", name="Set up later").click()
        page.wait_for_url(f"{site}/demo/a/")
        assert "Application A" in page.inner_text("h1")
        assert "You skipped setting up MFA for “Application A” this time." in page.inner_text(".messages")
        assert "“Set up later”" in page.locator(".badge.warn").inner_text()
        if left == 2:
            _shot(page, "63-application-a-after-set-up-later-375")
        context.close()

    context, page = _signed_in_at_app_a(browser, site, "other@demo.test")  # the third time
    assert page.locator("#set-up-later").count() == 0
    assert page.get_by_role("button", name="Set up later").count() == 0
    _shot(page, "61-grace-used-up-375")
    page.goto(f"{site}/demo/a/")
    page.wait_for_url(f"{site}{ENROLL}")  # still sent to enroll
    context.close()


def test_a_grace_period_by_date_and_p1_offered_a_security_key_first(browser, site, demo, clock):
    _grace(enrollment_grace_until=clock.now + dt.timedelta(days=9))
    for viewport, suffix in ((PHONE, "375"), (DESKTOP, "desktop")):
        context, page = _signed_in_at_app_a(browser, site, "p1@demo.test", viewport)
        kinds = page.locator("li.card h2").all_inner_texts()
        assert kinds == ["Security key", "Authenticator application", "Biometrics"], kinds
        assert "“Application A” accepts a security key: enroll one to open it." in page.inner_text(".lead")
        other = page.locator(".other-kinds")
        assert "Other kinds" in other.inner_text()
        assert "“Application A” does not accept these" in other.inner_text()
        assert "Authenticator application" in other.inner_text()
        assert ("You can skip this until 1 December 2026, 12:00 UTC."
                in page.locator("#set-up-later").inner_text())
        _shot(page, f"62-p1-security-key-first-{suffix}")
        if suffix == "desktop":
            page.get_by_role("button", name="Set up later").click()
            page.wait_for_url(f"{site}/demo/a/")
            assert "Application A" in page.inner_text("h1")
        context.close()

    clock.advance(days=10)  # the date has passed
    context, page = _signed_in_at_app_a(browser, site, "p1@demo.test")
    assert page.locator("#set-up-later").count() == 0
    context.close()
