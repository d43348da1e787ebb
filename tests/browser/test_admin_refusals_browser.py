"""Refusals in the admin, in a real browser at 375 px and 1280 px: next to their field, readable,
inside the page (issue 8). Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings
from django.test import Client

from mfa_policies import constants as c
from mfa_policies.models import AaguidList

from .support import SHOTS, TIMEOUT_MS, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _admin_page(browser, site, user, width):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value, "url": site}])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


def _shot_of(locator, name):
    """The part of the page holding the refusals, at its real size (a full page at 375 px is long)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    locator.screenshot(path=str(SHOTS / f"{name}.png"))


def _assert_refusal_next_to(page, field, words, width):
    row = page.locator(f".form-row.field-{field}")
    error = row.locator("ul.errorlist").first
    assert words in error.inner_text()
    box, row_box = error.bounding_box(), row.bounding_box()
    assert box["y"] >= row_box["y"] and box["y"] + box["height"] <= row_box["y"] + row_box["height"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, f"{field}'s refusal runs off the page"


@pytest.mark.parametrize("width", [375, 1280])
def test_refusals_sit_next_to_their_field_at_phone_and_desktop_width(browser, site, make_user, make_org, make_policy,
                                                                      width):
    admin_user = make_user("root@corp.test", is_staff=True, is_superuser=True)
    org = make_org("Corp", allowed_authenticators=[c.TOTP])
    aaguids = AaguidList.objects.create(organization=org, name="Approved security keys")
    policy = make_policy(org, "Staff")
    page = _admin_page(browser, site, admin_user, width)

    page.goto(f"{site}/admin/mfa_policies/organization/{org.pk}/change/")
    page.check("#id_amr_matching_enabled")
    # the AAGUID list is an autocomplete box (select2): choose the list as its search would
    page.evaluate("""([id, label]) => { const s = document.getElementById("id_required_aaguids");
        s.append(new Option(label, id, true, true)); s.dispatchEvent(new Event("change")); }""",
                  [str(aaguids.pk), aaguids.name])
    page.fill("#id_session_duration", "2 days")
    page.click("input[name=_save]")
    _assert_refusal_next_to(page, "amr_matching_enabled", "“Use identity provider MFA” and an “AAGUID list” cannot", width)
    _assert_refusal_next_to(page, "session_duration", "“2 days” is not a duration", width)
    shot(page, f"40-admin-organization-refusals-{width}")
    _shot_of(page.locator("fieldset", has_text="Multi-factor auth"), f"40-admin-organization-refusals-{width}-mfa")

    page.goto(f"{site}/admin/mfa_policies/policy/{policy.pk}/change/")
    page.fill("#id_include", json.dumps([{"selector": "everyone", "value": ""}, {"selector": "role", "value": "ghost"}]))
    page.fill("#id_require", "[" * 5000 + "]" * 5000)
    page.click("input[name=_save]")
    _assert_refusal_next_to(page, "include", "Rule 2: there is no role with key “ghost”.", width)
    _assert_refusal_next_to(page, "require", "This is nested too deeply", width)
    shot(page, f"41-admin-policy-refusals-{width}")
    _shot_of(page.locator("fieldset").first, f"41-admin-policy-refusals-{width}-rules")
    page.context.close()
