"""Spec §3.5 end to end with the Django client: every worked example is a request test."""

from __future__ import annotations

import pytest
from django.conf import settings

from mfa_policies import constants as c
from mfa_policies.models import Environment
from tests.support.authenticators import code_at, enroll_totp, enroll_webauthn
from tests.support.signin import sign_in, simulate_oidc_sign_in
from tests.support.webauthn_fakes import FakeAuthenticator

VERIFY = "/mfa/verify/"


def _user(email):
    from accounts.models import User

    return User.objects.get(email=email)


def verify_totp(client, clock, otp, next_url="/demo/a/"):
    clock.advance(seconds=31)  # a fresh step: the enrollment helper's step is spent
    response = client.post(f"{VERIFY}?next={next_url}", {"code": code_at(otp)})
    assert response.status_code == 302, response.content[:800]
    return response


def verify_security_key(client, fake, kind=c.SECURITY_KEY):
    options = client.post(f"/mfa/verify/webauthn/options/?kind={kind}", content_type="application/json")
    assert options.status_code == 200, options.content
    credential = fake.assert_(options.json()["options"], origin=settings.MFAGATE_WEBAUTHN_ORIGINS[0])
    done = client.post(f"/mfa/verify/webauthn/verify/?kind={kind}", {"credential": credential},
                       content_type="application/json")
    assert done.status_code == 200, done.content
    return done.json()


def new_login_flow(client, app_id):
    """Forget the app session (as expiry or a revocation would) so the next request re-runs the flow."""
    session = client.session
    session["mfagate.apps"] = {k: v for k, v in session.get("mfagate.apps", {}).items() if k != str(app_id)}
    session.save()


# ------------------------------------------------------------------- the seed-001 precedence example
def test_policy_1_user_gets_security_key_only_and_a_new_prompt_after_one_hour(client, demo, clock):
    user = _user("p1@demo.test")
    enroll_totp(user)
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    sign_in(client, "p1@demo.test")

    response = client.get("/demo/a/")
    assert response["Location"].startswith(VERIFY)
    page = client.get(response["Location"])
    assert b"Use your security key" in page.content
    assert b"Code from your authenticator application" not in page.content  # totp is not offered
    assert b"Use biometrics" not in page.content

    result = verify_security_key(client, fake)
    assert result == {"ok": True, "redirect": "/demo/a/", "redirect_url": "/demo/a/"}
    ok = client.get("/demo/a/")
    assert ok.status_code == 200
    assert ok.wsgi_request.access.claims["amr"] == ["hwk", "mfa"]

    app_id = ok.wsgi_request.access.application.id
    clock.advance(minutes=59)
    new_login_flow(client, app_id)
    assert client.get("/demo/a/").status_code == 200  # the MFA session is 1 h long
    clock.advance(minutes=2)
    assert client.get("/demo/a/").status_code == 200  # the app session (24 h) is not ended by it
    new_login_flow(client, app_id)
    assert client.get("/demo/a/")["Location"].startswith(VERIFY)  # a new login flow after 1 h prompts


def test_policy_1_user_with_only_totp_is_sent_to_enroll_a_security_key(client, demo, clock):
    enroll_totp(_user("p1@demo.test"))
    sign_in(client, "p1@demo.test")
    response = client.get("/demo/a/")
    assert response.status_code == 302
    assert response["Location"] == "/AddMfaDevice?next=%2Fdemo%2Fa%2F"


def test_enroll_redirect_names_the_allowed_kinds(client, demo, clock):
    from django.contrib.messages import get_messages

    enroll_totp(_user("p1@demo.test"))
    sign_in(client, "p1@demo.test")
    response = client.get("/demo/a/")
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("security key" in t for t in texts), texts


def test_policy_2_user_is_not_prompted(client, demo, clock):
    enroll_totp(_user("p2@demo.test"))
    sign_in(client, "p2@demo.test")
    response = client.get("/demo/a/")
    assert response.status_code == 200
    assert response.wsgi_request.access.decision.satisfied_by == "not_required"


def test_user_matching_neither_policy_gets_totp_or_key_for_24_hours(client, demo, clock):
    user = _user("other@demo.test")
    _, otp = enroll_totp(user)
    enroll_webauthn(user, FakeAuthenticator())
    sign_in(client, "other@demo.test")
    location = client.get("/demo/a/")["Location"]
    page = client.get(location)
    assert b"Code from your authenticator application" in page.content
    assert b"Use your security key" in page.content
    verify_totp(client, clock, otp)
    ok = client.get("/demo/a/")
    app_id = ok.wsgi_request.access.application.id
    clock.advance(hours=23, minutes=58)
    new_login_flow(client, app_id)
    again = client.get("/demo/a/")
    assert again.status_code == 200
    assert again.wsgi_request.access.decision.satisfied_by == "mfa_session"
    clock.advance(minutes=3)
    new_login_flow(client, app_id)
    assert client.get("/demo/a/")["Location"].startswith(VERIFY)


@pytest.mark.parametrize("email", ["p1@demo.test", "p2@demo.test", "other@demo.test", "mixed@demo.test"])
def test_anyone_allowed_on_application_b_is_not_prompted(client, demo, clock, email):
    enroll_totp(_user(email))
    sign_in(client, email)
    response = client.get("/demo/b/")
    assert response.status_code == 200
    assert b"Application B" in response.content


# --------------------------------------------------------------------------------- seed 000
def _seed_000(make_org, make_app, make_policy, make_role, make_member, make_user, make_connection,
              *, environment, enforce, roles, exempt_roles, exempt_connection):
    env = Environment.load()
    env.mfa_requirement = environment
    env.allowed_authenticators = [c.TOTP]
    env.save()
    org = make_org(mfa_required_for_all_apps=enforce)
    app = make_app(org, path_prefixes=["/demo/a/"])
    make_policy(org, apps=[app])
    user = make_user("viewer@example.test")
    make_member(user, org, [make_role(r) for r in roles])
    org.exempt_roles.set([make_role(r) for r in exempt_roles])
    okta = make_connection("okta", c.CONNECTION_OIDC, provider_id="okta")
    if exempt_connection:
        org.exempt_connections.set([okta])
    return user


SEED_000 = [
    # environment, enforce, roles, exempt roles, connection (exempt?), has totp, expected MFA
    ("no", True, ["admin"], ["admin"], "password", True, False),
    ("no", True, ["admin", "billing"], ["admin"], "password", True, True),
    ("no", True, ["admin"], [], "okta", True, False),
    ("yes", False, ["viewer"], [], "password", True, True),
    ("no", False, ["viewer"], [], "password", True, False),
    ("optional", False, ["viewer"], [], "password", True, True),
    ("optional", False, ["viewer"], [], "password", False, False),
]


@pytest.mark.parametrize("environment,enforce,roles,exempt_roles,connection,has_totp,mfa", SEED_000)
def test_seed_000_examples(client, clock, make_org, make_app, make_policy, make_role, make_member, make_user,
                           make_connection, environment, enforce, roles, exempt_roles, connection, has_totp, mfa):
    user = _seed_000(make_org, make_app, make_policy, make_role, make_member, make_user, make_connection,
                     environment=environment, enforce=enforce, roles=roles, exempt_roles=exempt_roles,
                     exempt_connection=connection == "okta")
    if has_totp:
        enroll_totp(user)
    if connection == "okta":
        simulate_oidc_sign_in(client, user, connection="okta", amr=["pwd"])
    else:
        sign_in(client, user.email, "correct-horse-battery")
    response = client.get("/demo/a/")
    if mfa:
        assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    else:
        assert response.status_code == 200, response.content[:500]


# --------------------------------------------------------------------------- durations
@pytest.mark.parametrize("duration,prompt_after", [("1h", 61), ("24h", 24 * 60 + 1), ("0m", 0)])
def test_authentication_duration_decides_when_a_new_login_flow_prompts(
        client, clock, make_org, make_app, make_policy, make_user, make_member, duration, prompt_after):
    org = make_org(mfa_required_for_all_apps=True, allowed_authenticators=[c.TOTP], session_duration=duration)
    app = make_app(org, path_prefixes=["/demo/a/"])
    make_policy(org, apps=[app])
    user = make_user("d@example.test")
    make_member(user, org)
    _, otp = enroll_totp(user)
    sign_in(client, user.email, "correct-horse-battery")
    assert client.get("/demo/a/")["Location"].startswith(VERIFY)
    verify_totp(client, clock, otp)
    assert client.get("/demo/a/").status_code == 200
    if prompt_after:
        clock.advance(minutes=prompt_after - 2)
        new_login_flow(client, app.pk)
        assert client.get("/demo/a/").status_code == 200
        clock.advance(minutes=2)
    new_login_flow(client, app.pk)
    assert client.get("/demo/a/")["Location"].startswith(VERIFY)


def test_0m_duration_still_lets_the_app_session_live(client, clock, make_org, make_app, make_policy, make_user,
                                                     make_member):
    org = make_org(mfa_required_for_all_apps=True, allowed_authenticators=[c.TOTP], session_duration="0m")
    app = make_app(org, path_prefixes=["/demo/a/"], session_duration="1h")
    make_policy(org, apps=[app])
    user = make_user("z@example.test")
    make_member(user, org)
    _, otp = enroll_totp(user)
    sign_in(client, user.email, "correct-horse-battery")
    client.get("/demo/a/")
    verify_totp(client, clock, otp)
    clock.advance(minutes=59)
    assert client.get("/demo/a/").status_code == 200
    clock.advance(minutes=2)  # the app session (1 h) is over
    assert client.get("/demo/a/")["Location"].startswith(VERIFY)
