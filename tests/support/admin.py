"""Helpers for the admin console tests: signing an admin in past the Admin console's MFA, the
change form's POST data."""

from __future__ import annotations


def into_admin(client, clock, email):
    """Sign ``email`` in and past the Admin console's MFA (enrolling a TOTP for them)."""
    from accounts.models import User
    from tests.support.authenticators import code_at, enroll_totp
    from tests.support.signin import sign_in

    _, otp = enroll_totp(User.objects.get(email=email), name="Admin phone")
    clock.advance(seconds=31)
    sign_in(client, email)
    challenge = client.get("/admin/")
    assert challenge["Location"].startswith("/mfa/verify/"), challenge.status_code
    assert client.post(challenge["Location"], {"code": code_at(otp)}).status_code == 302
    return client


def org_form(org, **changes):
    data = {
        "name": org.name, "auth_domain": org.auth_domain,
        "mfa_required_for_all_apps": "on" if org.mfa_required_for_all_apps else "",
        "allowed_authenticators": org.allowed_authenticators, "session_duration": org.session_duration,
        "amr_session_duration": org.amr_session_duration, "required_aaguids": "",
        "exempt_roles": [str(r.pk) for r in org.exempt_roles.all()],
        "exempt_connections": [str(x.pk) for x in org.exempt_connections.all()],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}
