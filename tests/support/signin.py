"""Signing in for tests: allauth's login form, and an enterprise sign-in recorded as the allauth
adapter records it."""

from __future__ import annotations

from accounts.sign_in import record_sign_in

DEMO_PASSWORD = "demo-password"


def signin_form(client, email, password=DEMO_PASSWORD, next_url=None):
    """Sign in through allauth's login form; returns the response."""
    url = "/accounts/login/" + (f"?next={next_url}" if next_url else "")
    data = {"login": email, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(url, data)


def sign_in(client, email, password=DEMO_PASSWORD):
    response = signin_form(client, email, password)
    assert response.status_code == 302, response.content[:500]
    return response


def simulate_oidc_sign_in(client, user, *, connection="okta", amr=(), auth_time=None):
    """An enterprise sign-in as the allauth adapter records it: Django login, then the record."""
    from django.http import HttpRequest

    client.force_login(user)
    session = client.session
    request = HttpRequest()
    request.session = session
    record_sign_in(request, connection=connection, amr=list(amr) if isinstance(amr, tuple) else amr,
                                 auth_time=auth_time)
    session.save()
