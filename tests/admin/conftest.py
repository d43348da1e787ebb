"""Fixtures of the admin console tests: a browser signed in as the demo's admin, past MFA."""

from __future__ import annotations

import pytest


@pytest.fixture
def demo_admin_client(client, demo, clock):
    """A client signed in as the demo's admin@demo.test through allauth, past the Admin console's MFA with a
    TOTP code (named apart from pytest-django's admin_client, a force-logged-in superuser)."""
    from accounts.models import User
    from tests.support.authenticators import code_at, enroll_totp

    _, otp = enroll_totp(User.objects.get(email="admin@demo.test"))
    clock.advance(seconds=31)
    assert client.post("/accounts/login/", {"login": "admin@demo.test", "password": "demo-password"}).status_code == 302
    challenge = client.get("/admin/")
    assert challenge.status_code == 302 and challenge["Location"].startswith("/mfa/verify/")
    assert client.post(challenge["Location"], {"code": code_at(otp)}).status_code == 302
    assert client.get("/admin/").status_code == 200
    return client
