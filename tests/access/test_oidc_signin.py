"""A real enterprise sign-in: allauth's ``openid_connect`` provider against the test IdP
(``tests/oidc_idp``), which issues per-login ``amr`` claims. mfagate records the connection, the
``amr`` and ``auth_time``, and the resolver uses them (spec §2, §3.1.4, §3.3; SECURITY row 20)."""

from __future__ import annotations

import pytest

from mfa_policies import constants as c
from accounts.sign_in import SIGN_IN_KEY
from tests.support.authenticators import enroll_totp, enroll_webauthn
from tests.support.oidc import oidc_sign_in
from tests.support.webauthn_fakes import FakeAuthenticator

VERIFY = "/mfa/verify/"
ENROLL = "/AddMfaDevice"


@pytest.fixture
def corp(corp_oidc, idp_clock, make_org, make_app, make_policy, make_user, make_member):
    """An org enforcing MFA (totp, security key) with AMR matching on for 1 h, an inheriting app on
    /demo/a/ and a keys-only app on /demo/b/; alice, bob, carol and dave are members whose local
    accounts are linked to their IdP identities."""
    from allauth.socialaccount.models import SocialAccount

    org = make_org(mfa_required_for_all_apps=True, amr_matching_enabled=True, amr_session_duration="1h")
    app = make_app(org, path_prefixes=["/demo/a/"])
    make_policy(org, apps=[app])
    keys_app = make_app(org, path_prefixes=["/demo/b/"])
    make_policy(org, apps=[keys_app], mfa_mode=c.MODE_CUSTOM, mfa_allowed_authenticators=[c.SECURITY_KEY],
                mfa_session_duration="1h")
    users = {}
    for login in ("alice", "bob", "carol", "dave"):
        user = make_user(f"{login}@corp.example")
        SocialAccount.objects.create(user=user, provider="corp", uid=login)
        make_member(user, org)
        users[login] = user
    return org, app, keys_app, users


def _signed_in(client, login, **kwargs):
    result = oidc_sign_in(client, login, **kwargs)
    assert result.response.status_code == 302, result.response.content[:1000]
    assert "/accounts/" not in result.response["Location"], result.response["Location"]
    return client.session[SIGN_IN_KEY]


def _access(response):
    return response.wsgi_request.access


# ------------------------------------------------------------------------ what is recorded
def test_alice_sign_in_records_connection_amr_and_auth_time(client, corp, oidc_idp):
    from allauth.socialaccount.models import SocialAccount

    client.get("/accounts/login/")
    before = client.session.session_key
    result = oidc_sign_in(client, "alice", next_url="/demo/a/")
    assert result.response.status_code == 302 and result.response["Location"] == "/demo/a/"
    session = client.session
    assert session.session_key != before
    assert session["_auth_user_id"] == str(corp[3]["alice"].pk)
    record = session[SIGN_IN_KEY]
    assert record["connection"] == "corp"
    assert record["amr"] == ["pwd", "hwk"]
    id_token = SocialAccount.objects.get(provider="corp", uid="alice").extra_data["id_token"]
    assert id_token["iss"] == oidc_idp.issuer
    assert record["at"] == id_token["auth_time"]
    assert abs(record["at"] - record["signed_in_at"]) < 30  # the IdP's login happened just now
    print(f"\nIdP start {oidc_idp.started_in * 1000:.0f} ms; alice sign-in {result.seconds * 1000:.0f} ms")


def test_a_wrong_idp_password_signs_nobody_in(client, corp):
    with pytest.raises(AssertionError, match="did not send the browser back"):
        oidc_sign_in(client, "alice", "wrong-password")
    assert "_auth_user_id" not in client.session
    assert SIGN_IN_KEY not in client.session


# --------------------------------------------------------------------------- AMR matching
def test_alice_hwk_passes_a_keys_only_app_without_a_prompt(client, corp):
    _signed_in(client, "alice")
    response = client.get("/demo/b/")
    assert response.status_code == 200
    assert _access(response).decision.satisfied_by == "amr_match"
    assert _access(response).claims["amr"] == ["pwd", "hwk"]


def test_bob_otp_passes_a_totp_app_but_is_prompted_on_a_keys_only_app(client, corp):
    bob = corp[3]["bob"]
    enroll_totp(bob)
    enroll_webauthn(bob, FakeAuthenticator())
    _signed_in(client, "bob")
    response = client.get("/demo/a/")
    assert response.status_code == 200
    assert _access(response).decision.satisfied_by == "amr_match"
    assert _access(response).claims["amr"] == ["pwd", "otp"]
    assert client.get("/demo/b/")["Location"].startswith(VERIFY)


@pytest.mark.parametrize("login", ["carol", "dave"])  # amr ["pwd"]; amr ["pop"] (vendor value)
def test_no_recognised_second_factor_is_prompted(client, corp, login):
    enroll_totp(corp[3][login])
    record = _signed_in(client, login)
    assert record["amr"] == {"carol": ["pwd"], "dave": ["pop"]}[login]
    assert client.get("/demo/a/")["Location"].startswith(VERIFY)
    assert client.get("/demo/b/")["Location"].startswith(ENROLL)  # keys only, and no key enrolled


@pytest.mark.parametrize("amr", ["pwd,fido", "pwd,HWK", "mfa"])
def test_undefined_or_miscased_values_from_the_idp_are_ignored(client, corp, amr):
    enroll_totp(corp[3]["carol"])
    record = _signed_in(client, "carol", amr=amr)
    assert record["amr"] == amr.split(",")
    assert client.get("/demo/a/")["Location"].startswith(VERIFY)


def test_amr_older_than_the_amr_duration_prompts(client, corp, idp_clock):
    enroll_totp(corp[3]["bob"])
    _signed_in(client, "bob")
    idp_clock.advance(hours=1, seconds=1)
    assert client.get("/demo/a/")["Location"].startswith(VERIFY)


def test_an_idp_auth_time_older_than_the_amr_duration_prompts_at_once(client, corp, idp_clock):
    enroll_totp(corp[3]["bob"])
    old = int(idp_clock.now.timestamp()) - 3601
    record = _signed_in(client, "bob", auth_time=old)
    assert record["at"] == old
    assert client.get("/demo/a/")["Location"].startswith(VERIFY)


def test_a_future_auth_time_is_recorded_as_now_and_cannot_extend_the_amr(client, corp, idp_clock, caplog):
    enroll_totp(corp[3]["bob"])
    now = int(idp_clock.now.timestamp())
    record = _signed_in(client, "bob", auth_time=now + 86400)
    assert record["at"] == now
    assert "auth_time in the future" in caplog.text
    idp_clock.advance(hours=1, seconds=1)
    assert client.get("/demo/a/")["Location"].startswith(VERIFY)


def test_a_string_amr_from_the_idp_is_rejected(client, corp, caplog):
    enroll_webauthn(corp[3]["alice"], FakeAuthenticator())
    record = _signed_in(client, "alice", amr='"hwk"')
    assert record["amr"] == []
    assert "not a list" in caplog.text
    assert client.get("/demo/b/")["Location"].startswith(VERIFY)


# ------------------------------------------------------------------------------ exemption
def test_an_exempt_connection_skips_mfa_on_the_inherited_path(client, corp, corp_oidc):
    org, _, _, users = corp
    org.exempt_connections.add(corp_oidc)
    enroll_totp(users["carol"])
    _signed_in(client, "carol")
    response = client.get("/demo/a/")
    assert response.status_code == 200
    assert any("exempt connection" in step for step in _access(response).decision.trail)
    # an explicit custom policy is not weakened by the exemption (spec §3.2.3)
    assert client.get("/demo/b/")["Location"].startswith(ENROLL)


# ---------------------------------------------------------------------- require auth_method
@pytest.mark.parametrize("method,lacking,having", [
    ("hwk", "bob", "alice"),
    ("mfa", "alice", "alice:pwd,hwk,mfa"),
])
def test_require_auth_method_refuses_a_sign_in_whose_amr_lacks_it(client, corp, make_policy,
                                                                   method, lacking, having):
    from mfa_policies.models import AppPolicy

    org, app, _, _ = corp
    AppPolicy.objects.filter(application=app).delete()
    make_policy(org, f"Needs {method}", apps=[app], require=[{"selector": "auth_method", "value": method}],
                mfa_mode=c.MODE_DISABLED)
    _signed_in(client, lacking)
    response = client.get("/demo/a/")
    assert response.status_code == 403
    body = response.content.decode()
    assert f"Needs {method}" in body and "amr" in body
    client.logout()
    login, _, amr = having.partition(":")
    _signed_in(client, login, amr=amr or None)
    assert client.get("/demo/a/").status_code == 200


# ------------------------------------------------------------------------- provisioning
def test_a_first_sign_in_provisions_the_user_and_records_the_connection(client, corp):
    from accounts.models import User

    record = _signed_in(client, "erin")
    erin = User.objects.get(email="erin@corp.example")
    assert client.session["_auth_user_id"] == str(erin.pk)
    assert record["connection"] == "corp" and record["amr"] == ["pwd", "otp"]
    assert client.get("/demo/a/").status_code == 403  # no membership yet: no policy can match



# ------------------------------------------------------------- which connection is recorded
def test_a_local_connection_carrying_the_provider_id_is_not_recorded(client, corp):
    from mfa_policies.models import Connection

    Connection.objects.filter(key="corp").update(kind=c.CONNECTION_PASSWORD)  # bypassing validation
    assert _signed_in(client, "carol")["connection"] == "unregistered:corp"


def test_two_connections_cannot_share_a_provider_id(corp, make_connection):
    """So the recorded connection — and an exemption — can never depend on which one is found first."""
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        make_connection("a-partners", c.CONNECTION_OIDC, provider_id="corp")


def test_amr_duration_0m_counts_for_the_sign_ins_own_login_flow_only(client, corp, make_policy):
    from mfa_policies.models import AppPolicy

    org, _, other, users = corp
    org.amr_session_duration = "0m"
    org.save()
    AppPolicy.objects.filter(application=other).delete()
    make_policy(org, apps=[other])  # /demo/b/ inherits too (totp or security key)
    enroll_totp(users["bob"])
    result = oidc_sign_in(client, "bob", next_url="/demo/a/")
    assert result.response["Location"] == "/demo/a/"
    response = client.get("/demo/a/")
    assert response.status_code == 200 and _access(response).decision.satisfied_by == "amr_match"
    assert client.get("/demo/b/")["Location"].startswith(VERIFY)  # a later login flow
