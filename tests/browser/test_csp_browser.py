"""The Content-Security-Policy in a real browser: the WebAuthn pages, the MFA challenge and the
admin console work under it, and Chromium reports no violation on any of them. A probe page
with an inline script and an inline style first shows that a violation would be caught."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from accounts.models import User
from config.csp import HEADER, build_policy
from enrollment.models import Authenticator
from mfa_policies.models import Application
from tests.support.authenticators import code_at, enroll_totp

from .support import SECURITY_KEY, TIMEOUT_MS, register, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Violations:
    """Every CSP report Chromium makes on a page: its console messages and DevTools log entries
    ("Refused to execute inline script because it violates …")."""

    def __init__(self, context, page):
        self.seen: list[str] = []
        page.on("console", lambda m: self._note(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.seen.append(f"pageerror: {e}"))
        cdp = context.new_cdp_session(page)
        cdp.on("Log.entryAdded", lambda e: self._note(f"log: {e['entry'].get('text', '')}"))
        cdp.send("Log.enable")
        self.cdp = cdp

    def _note(self, text: str):
        if "Content Security Policy" in text or "Refused to" in text:
            self.seen.append(text)


def _browser_page(browser):
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return context, page


def _sign_in(page, site, email, next_path):
    page.goto(f"{site}{next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", "demo-password")
    page.click("main form button[type=submit]")


def test_the_policy_is_enforced_and_a_violation_would_be_reported(browser, site, client):
    policy = client.get("/accounts/login/")[HEADER]
    assert policy == build_policy(django_settings.SECURE_CSP)
    context, page = _browser_page(browser)
    violations = Violations(context, page)
    page.route(f"{site}/csp-probe/", lambda route: route.fulfill(
        status=200, headers={"Content-Type": "text/html", HEADER: policy},
        body="<!doctype html><p style='color: red'>probe</p><script>window.ran = true</script>",
    ))
    page.goto(f"{site}/csp-probe/")
    assert page.evaluate("window.ran === undefined"), "the inline script was blocked"
    page.wait_for_timeout(200)
    assert any("inline script" in v for v in violations.seen), violations.seen
    assert any("inline style" in v for v in violations.seen), violations.seen
    context.close()


def test_webauthn_pages_and_the_mfa_challenge_work_with_no_violation(browser, site, demo, clock):
    context, page = _browser_page(browser)
    violations = Violations(context, page)
    violations.cdp.send("WebAuthn.enable", {"enableUI": False})
    violations.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": SECURITY_KEY})

    _sign_in(page, site, "p1@demo.test", "/demo/a/")  # Policy 1: security key only
    page.wait_for_url(f"{site}/AddMfaDevice?next=%2Fdemo%2Fa%2F")
    register(page, site, "Security key", name="Desk key")  # webauthn.js + enrollment.js + json_script
    page.wait_for_url(f"{site}/account/mfa-devices/")
    assert Authenticator.objects.filter(user__email="p1@demo.test").count() == 1

    # Registering was a verification (issue 11); once Policy 1's hour is over, the challenge asks again.
    clock.advance(hours=1, minutes=1)
    page.goto(f"{site}/demo/a/")
    page.wait_for_url("**/mfa/verify/?next=%2Fdemo%2Fa%2F")
    page.get_by_role("button", name="Use your security key").click()
    page.wait_for_url(f"{site}/demo/a/")
    assert "Application A" in page.inner_text("h1")

    page.goto(f"{site}/AddMfaDevice")  # a second device: the step-up page first
    assert "/account/mfa-devices/verify/" in page.url
    page.wait_for_load_state("load")
    page.click("#webauthn-step-up-button")
    page.wait_for_url(f"{site}/AddMfaDevice")
    shot(page, "40-csp-step-up-passed")
    page.goto(f"{site}/account/recovery-codes/")  # recovery-codes.js + json_script
    page.get_by_role("button", name="Generate recovery codes").click()
    page.wait_for_selector("#recovery-download:not([disabled])")
    page.wait_for_timeout(200)
    assert violations.seen == []
    context.close()


def test_the_admin_console_works_with_no_violation(browser, site, demo, clock):
    admin = User.objects.get(email="admin@demo.test")
    _, otp = enroll_totp(admin)
    context, page = _browser_page(browser)
    violations = Violations(context, page)

    _sign_in(page, site, "admin@demo.test", "/admin/")
    page.wait_for_url("**/mfa/verify/?next=%2Fadmin%2F")
    page.fill("input[name=code]", code_at(otp))  # the challenge's TOTP form
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{site}/admin/")

    app = Application.objects.get(name="Application A")
    for path in ("/admin/", f"/admin/accounts/user/{admin.pk}/change/", "/admin/mfa_policies/application/",
                 f"/admin/mfa_policies/application/{app.pk}/change/", "/admin/mfa_policies/policy/add/",
                 "/admin/mfa_policies/organization/", "/admin/accounts/user/?q=demo"):
        page.goto(f"{site}{path}")
        assert page.locator("#content").count() == 1, path
        if "/accounts/user/" in path and "change" in path:
            page.click("#mfa-enrollment-link")  # admin-mfa-devices.js selects it
            assert page.evaluate("document.getSelection().toString() || "
                                 "document.activeElement.value.substring(document.activeElement.selectionStart, "
                                 "document.activeElement.selectionEnd)").startswith("http")
            shot(page, "41-csp-admin-user")
    page.goto(f"{site}/admin/mfa_policies/application/")
    page.get_by_role("link", name="Policy tester").click()
    page.wait_for_load_state()
    shot(page, "42-csp-admin-policy-tester")
    page.wait_for_timeout(200)
    assert violations.seen == []
    context.close()
