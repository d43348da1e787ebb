"""End to end: allauth sign-in → protected page → MFA challenge → pass (spec §3.3, §3.4)."""

from __future__ import annotations

from tests.support.authenticators import code_at, enroll_totp
from tests.support.signin import sign_in


def test_other_user_is_challenged_then_verifies_totp_and_passes(client, demo, clock):
    from accounts.models import User

    user = User.objects.get(email="other@demo.test")
    _, otp = enroll_totp(user)
    sign_in(client, "other@demo.test")
    response = client.get("/demo/a/")
    assert response.status_code == 302
    assert response["Location"].startswith("/mfa/verify/?next=%2Fdemo%2Fa%2F")
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b"Code from your authenticator application" in page.content
    clock.advance(seconds=31)
    done = client.post(response["Location"], {"code": code_at(otp)})
    assert done.status_code == 302 and done["Location"] == "/demo/a/"
    ok = client.get("/demo/a/")
    assert ok.status_code == 200
    assert ok.wsgi_request.access.claims["amr"] == ["otp", "mfa"]
