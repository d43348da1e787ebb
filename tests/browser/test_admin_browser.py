"""The admin pages an administrator lives in, clicked through in headless Debian Chromium: a
locked-out user's page at 375 px (throttle and devices near the top, no page overflow), unlock,
delete a device; the AAGUID list's Known-authenticators picker with distinguishable entries.
Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent, User
from enrollment import throttle
from enrollment.models import Authenticator
from enrollment.webauthn import known_authenticators
from tests.support.authenticators import code_at, enroll_totp, enroll_webauthn, lock_out
from tests.support.webauthn_fakes import FakeAuthenticator

from .support import TIMEOUT_MS, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
YUBIKEY_AAGUID = "cb69481e8ff7403993ec0a2729a154a8"


def admin_page(browser, site, clock, viewport):
    """admin@demo.test signed in through the pages and past the Admin console's MFA challenge
    with a TOTP code, in a browser of ``viewport`` size."""
    _, otp = enroll_totp(User.objects.get(email="admin@demo.test"), name="Admin phone")
    clock.advance(seconds=31)
    page = browser.new_context(viewport=viewport).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{site}/accounts/login/?next=/admin/")
    page.fill("input[name=login]", "admin@demo.test")
    page.fill("input[name=password]", "demo-password")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/mfa/verify/?next=%2Fadmin%2F")
    page.fill("input[name=code]", code_at(otp))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{site}/admin/")
    return page


def page_overflow(page) -> int:
    """How many CSS pixels the page is wider than its viewport (0: no horizontal scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.fixture
def locked_out_user(demo, clock, site):
    """other@demo.test with an authenticator app and a YubiKey, locked out by 100 wrong codes."""
    user = User.objects.get(email="other@demo.test")
    enroll_totp(user, name="Old phone")
    enroll_webauthn(user, FakeAuthenticator(aaguid=YUBIKEY_AAGUID), name="Blue YubiKey on the keyring")
    lock_out(user)
    return user


def test_an_admin_unlocks_a_locked_out_user_and_deletes_a_device_at_375_px(browser, site, clock, locked_out_user):
    page = admin_page(browser, site, clock, PHONE)
    page.goto(f"{site}/admin/accounts/user/{locked_out_user.pk}/change/")
    shot(page, "40-admin-user-locked-out")
    shot(page, "40-admin-user-locked-out-first-screen", full_page=False)

    state = page.locator("#mfa-throttle-state")
    assert "100 consecutive failed attempts: locked until" in state.inner_text()
    # Near the top: the MFA sections come before the profile and permissions, within two screens.
    mfa_top = page.locator("#mfa-verification").bounding_box()["y"]
    devices_top = page.locator("#mfa-devices").bounding_box()["y"]
    permissions_top = page.locator("fieldset:has(h2:text-is('Permissions'))").bounding_box()["y"]
    assert mfa_top < devices_top < permissions_top and devices_top < 2 * PHONE["height"]
    # The devices table stacks its rows at 375 px: nothing wider than the page.
    assert page_overflow(page) == 0
    table_box = page.locator("table.mfa-devices").bounding_box()
    assert table_box["x"] >= 0 and table_box["x"] + table_box["width"] <= PHONE["width"]
    assert page.locator("tr[data-device] td[data-label='Name']").all_inner_texts() == [
        "Old phone", "Blue YubiKey on the keyring"]

    page.get_by_role("link", name="Unlock MFA verification").click()
    page.wait_for_url("**/mfa-throttle/unlock/")
    shot(page, "41-admin-unlock-confirm")
    assert page_overflow(page) == 0
    page.get_by_role("button", name="Yes, unlock").click()
    page.wait_for_url("**/change/")
    shot(page, "42-admin-user-unlocked", full_page=False)
    assert "MFA verification of other@demo.test unlocked" in page.locator(".messagelist").inner_text()
    assert state.inner_text() == "No failed verifications: the user can verify now."
    assert state.bounding_box()["y"] < PHONE["height"], "the message and the new state on the first screen"
    assert page.get_by_role("link", name="Unlock MFA verification").count() == 0
    assert throttle.state_of(locked_out_user).is_clear

    page.locator("tr[data-device]", has_text="Old phone").get_by_role("link", name="Delete").click()
    page.wait_for_url("**/mfa-devices/*/delete/")
    shot(page, "43-admin-delete-device-confirm")
    page.get_by_role("button", name="Yes, delete it").click()
    page.wait_for_url("**/change/")
    shot(page, "44-admin-user-device-deleted")
    assert "MFA device “Old phone” of other@demo.test deleted" in page.locator(".messagelist").inner_text()
    assert page.locator("tr[data-device] td[data-label='Name']").all_inner_texts() == ["Blue YubiKey on the keyring"]
    assert list(Authenticator.objects.filter(user=locked_out_user).values_list("name", flat=True)) == [
        "Blue YubiKey on the keyring"]
    assert AuditEvent.objects.filter(subject_user=locked_out_user, actor__email="admin@demo.test", action__in=[
        "throttle.unlocked", "authenticator.deleted_by_admin"]).count() == 2
    assert page_overflow(page) == 0


def test_the_user_page_on_a_desktop_shows_the_devices_as_a_table(browser, site, clock, locked_out_user):
    page = admin_page(browser, site, clock, DESKTOP)
    page.goto(f"{site}/admin/accounts/user/{locked_out_user.pk}/change/")
    shot(page, "45-admin-user-desktop")
    assert page.locator("table.mfa-devices thead").is_visible()
    rows = page.locator("tr[data-device]")
    assert rows.count() == 2
    first, second = (rows.nth(i).bounding_box() for i in range(2))
    assert second["y"] - first["y"] < 60, "one line per device"
    assert page_overflow(page) == 0


@pytest.mark.parametrize("viewport, name", [(PHONE, "46-aaguid-picker-375"), (DESKTOP, "47-aaguid-picker-desktop")])
def test_the_known_authenticators_picker_tells_same_named_models_apart(browser, site, clock, demo, viewport, name):
    same_name = [aaguid for aaguid, description in known_authenticators()
                 if description == "YubiKey Bio Series - FIDO Edition (Enterprise Profile)"]
    assert len(same_name) == 3  # the FIDO metadata lists three models under this one name
    page = admin_page(browser, site, clock, viewport)
    page.goto(f"{site}/admin/mfa_policies/aaguidlist/add/")
    page.locator("#id_known_authenticators_input").press_sequentially("Bio Series - FIDO Edition (Enterprise")
    options = page.locator("#id_known_authenticators_from option")
    assert options.count() == 3
    shot(page, name)
    texts = options.all_inner_texts()
    assert [text.split(" ", 1)[0] for text in texts] == sorted(same_name), "each begins with its AAGUID"
    assert len(set(texts)) == 3
    # What the select shows of each entry (its visible width) still starts with the whole AAGUID.
    select = page.locator("#id_known_authenticators_from")
    visible = select.evaluate("s => s.clientWidth")
    aaguid_width = select.evaluate("""s => { const c = document.createElement('canvas').getContext('2d');
        c.font = getComputedStyle(s).font; return c.measureText(s.options[0].text.split(' ')[0]).width; }""")
    assert aaguid_width < visible
    assert options.first.get_attribute("title") == texts[0], "the full entry on hover (Django's SelectBox)"
    assert page_overflow(page) == 0
    page.locator(f"#id_known_authenticators_from option[value='{same_name[1]}']").dblclick()
    chosen = page.locator("#id_known_authenticators_to option").all_inner_texts()
    assert chosen == [texts[1]]
