"""The App Launcher at / and the MFA devices list."""

from __future__ import annotations

import pytest

from mfa_policies import constants as c
from tests.support.authenticators import enroll_totp

pytestmark = pytest.mark.django_db


def test_launcher_lists_apps_whose_policies_allow_or_bypass_the_user(client, make_user, make_org, make_member,
                                                                     make_app, make_policy, clock):
    user = make_user(email="ann@corp.test")
    org = make_org(name="Corp")
    make_member(user, org)
    wiki = make_app(org, "Wiki", path_prefixes=["/wiki/", "/w/"])
    status = make_app(org, "Status", path_prefixes=["/status/"])
    payroll = make_app(org, "Payroll", path_prefixes=["/payroll/"])
    make_app(org, "Nobody", path_prefixes=["/nobody/"])  # no policy matches: refused
    make_policy(org, apps=[wiki], decision=c.ALLOW)
    make_policy(org, apps=[status], decision=c.BYPASS)
    make_policy(org, apps=[payroll], decision=c.ALLOW, include=[{"selector": "email", "value": "boss@corp.test"}])
    other_org = make_org(name="Elsewhere")
    make_policy(other_org, apps=[make_app(other_org, "Theirs", path_prefixes=["/theirs/"])])
    client.force_login(user)
    response = client.get("/")
    names = [app.name for app in response.context["apps"]]
    assert names == ["Status", "Wiki"]
    html = response.content.decode()
    assert 'href="/wiki/"' in html and "Payroll" not in html and "Theirs" not in html


def test_a_user_without_organizations_is_told_so(client, make_user, clock):
    client.force_login(make_user())
    assert "not a member of any organization" in client.get("/").content.decode()
    assert "not a member of any organization" in client.get("/AddMfaDevice").content.decode()


def test_offered_kinds_are_the_union_of_the_organizations_effective_kinds(client, make_user, make_org, make_member,
                                                                           make_app, clock):
    from enrollment.selectors import offered_kinds

    user = make_user()
    totp_org = make_org(allowed_authenticators=[c.TOTP])
    make_member(user, totp_org)
    assert offered_kinds(user) == [c.TOTP]
    make_app(totp_org, mfa_mode=c.MODE_CUSTOM, mfa_allowed_authenticators=[c.TOTP], mfa_session_duration="1h")
    keys_org = make_org(allowed_authenticators=[c.SECURITY_KEY, c.BIOMETRICS])
    make_member(user, keys_org)
    assert offered_kinds(user) == [c.TOTP, c.SECURITY_KEY, c.BIOMETRICS]
    client.force_login(user)
    html = client.get("/AddMfaDevice").content.decode()
    for label in ("Add an MFA device", "Authenticator application", "Security key", "Biometrics"):
        assert label in html


def test_an_organization_without_independent_mfa_offers_nothing(client, make_user, make_org, make_member, clock):
    user = make_user()
    make_member(user, make_org(allowed_authenticators=[]))
    client.force_login(user)
    assert "None of your organizations allows independent MFA" in client.get("/AddMfaDevice").content.decode()


def test_devices_list_shows_name_kind_added_and_last_used(client, make_user, clock):
    user = make_user()
    authenticator, _ = enroll_totp(user, name="Pixel")
    client.force_login(user)
    html = client.get("/account/mfa-devices/").content.decode()
    assert "Pixel" in html and "Authenticator application" in html and "2026-11-22 12:00" in html
    assert "Never" in html and "Remove MFA device" in html
