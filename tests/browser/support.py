"""Shared pieces of the browser tests: Debian's Chromium through Playwright with CDP virtual
authenticators (recipe: shared/recipes/webauthn-browser). Fixtures live in conftest.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from django.conf import settings as django_settings
from django.test import Client

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself are still synchronous and safe (documented Playwright + Django practice).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
CHROMIUM = shutil.which("chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_AAGUID = "01020304050607080102030405060708"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--host-resolver-rules=MAP localhost 127.0.0.1, MAP * ~NOTFOUND"]
TIMEOUT_MS = 10_000


def open_as(browser, site, user, *authenticators):
    """A 375 px wide page signed in as ``user``, with virtual authenticators added before any
    navigation (WebAuthn.enable first, or create()/get() never settle)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 375, "height": 812})
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value, "url": site}])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    for options in authenticators:
        cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    return page


SECURITY_KEY = {"protocol": "ctap2", "transport": "usb", "hasResidentKey": True,
                "hasUserVerification": True, "isUserVerified": True}
PLATFORM = {"protocol": "ctap2", "transport": "internal", "hasUserVerification": True, "isUserVerified": True}
U2F_KEY = {"protocol": "u2f", "transport": "usb"}


def shot(page, name, full_page=True):
    """Save a screenshot of the whole page (or, ``full_page=False``, of what the screen shows)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def register(page, site, kind_label, name=""):
    page.goto(f"{site}/AddMfaDevice")
    page.get_by_role("link", name=kind_label).click()
    if name:
        page.fill("#device-name", name)
    page.click("#webauthn-register-button")


