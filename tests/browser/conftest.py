"""Fixtures for the browser tests: the live site on http://localhost and one Chromium per test."""

from __future__ import annotations

import pytest

from mfa_policies import constants as c

from .support import ARGS, CHROMIUM


@pytest.fixture
def site(live_server, settings):
    base = "http://localhost:" + live_server.url.rsplit(":", 1)[1]
    settings.MFAGATE_WEBAUTHN_RP_ID = "localhost"
    settings.MFAGATE_WEBAUTHN_ORIGINS = [base]
    settings.MFAGATE_WEBAUTHN_EXTRA_ROOT_CERTS = []
    return base


@pytest.fixture
def browser():
    from django.db import connections
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:  # a missing browser must fail the run, not skip it: `make test` installs it
        pytest.fail("Debian's chromium is not installed: run `make chromium` (never `playwright install`)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()
        # ORM calls made while Playwright's loop runs get their own (context-local) connections.
        connections.close_all()


@pytest.fixture
def member(make_user, make_org, make_member):
    user = make_user(email="ann@corp.test")
    org = make_org(name="Corp", allowed_authenticators=[c.TOTP, c.SECURITY_KEY, c.BIOMETRICS])
    make_member(user, org)
    user.org = org
    return user
