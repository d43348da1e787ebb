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


def test_an_authenticator_that_cannot_finish_the_challenge_is_refused_in_words(client, demo, clock):
    """challenge_complete refuses another user's authenticator, or a kind the application does not
    accept, with the user's message (ChallengeRefused), and grants nothing."""
    import pytest

    from accounts.models import User
    from mfa_policies.access.enforcement import ChallengeRefused, Challenge, challenge_complete, challenge_for

    user, stranger = User.objects.get(email="other@demo.test"), User.objects.get(email="p2@demo.test")
    enroll_totp(user)
    strangers_device, _ = enroll_totp(stranger)
    sign_in(client, "other@demo.test")
    location = client.get("/demo/a/")["Location"]
    request = client.get(location).wsgi_request
    challenge = challenge_for(request)
    assert isinstance(challenge, Challenge)
    with pytest.raises(ChallengeRefused) as refused:
        challenge_complete(request, challenge, strangers_device)
    assert "cannot be used for “Application A”" in refused.value.message
    assert "Use authenticator application" in refused.value.message  # what this user can use here
    assert client.get("/demo/a/").status_code == 302, "no app session was granted"
