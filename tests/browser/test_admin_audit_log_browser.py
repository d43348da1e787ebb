"""The audit log in headless Debian Chromium: an attacker fails the victim's MFA challenge five
times; the administrator goes from the victim's user page to their security events, filters the
log by user in the text box, at 1280 px and at 375 px. Screenshots in test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from tests.support.authenticators import code_at, enroll_totp
from tests.support.signin import sign_in

from .support import shot
from .test_admin_browser import DESKTOP, PHONE, admin_page, page_overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ATTACKER = "203.0.113.66"


def _attack(clock, email="other@demo.test"):
    """Five wrong codes at the victim's MFA challenge, from the attacker's address."""
    victim = User.objects.get(email=email)
    _, otp = enroll_totp(victim, name="Work phone")
    client = Client(REMOTE_ADDR=ATTACKER)
    sign_in(client, email)
    wrong = "000000" if code_at(otp) != "000000" else "111111"
    for _ in range(5):
        clock.advance(minutes=1)
        assert client.get("/demo/a/")["Location"].startswith("/mfa/verify/")
        assert client.post("/mfa/verify/", {"code": wrong}).status_code == 400
    return victim


@pytest.mark.parametrize("viewport, name", [(DESKTOP, "60-audit-log-by-user-desktop"),
                                            (PHONE, "61-audit-log-by-user-375")])
def test_an_admin_finds_a_users_failed_attempts_from_their_page(browser, site, clock, demo, viewport, name):
    victim = _attack(clock)
    assert [m.to for m in mail.outbox] == [[victim.email]]
    page = admin_page(browser, site, clock, viewport)
    page.goto(f"{site}/admin/accounts/user/{victim.pk}/change/")
    page.get_by_role("link", name="Security events of this user").click()
    page.wait_for_url("**/admin/accounts/auditevent/?*")
    actions = page.locator("td.field-action").all_inner_texts()
    assert actions.count("mfa.verification_failed") == 5 and actions.count("throttle.delayed") == 1
    assert set(actions) == {"mfa.verification_failed", "throttle.delayed"}
    assert ATTACKER in page.locator("#result_list").inner_text()

    # The text box: part of the address, any case; the filter keeps the kind of event chosen.
    box = page.locator("#filter-subject_user")
    box.fill("OTHER@demo")
    box.press("Enter")
    page.wait_for_url("**subject_user=OTHER%40demo**")
    assert page.locator("td.field-action").count() == 6
    assert page.locator("#filter-subject_user").input_value() == "OTHER@demo"
    shot(page, name)
    assert page_overflow(page) == 0
