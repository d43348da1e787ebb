"""Cloudflare's official Python SDK (``cloudflare``, pinned in pyproject.toml) drives a live server
with only ``base_url`` changed: organizations, lists and their items, applications, policies,
an application's policies and users, auto-pagination included (it stops at the first empty page)."""

from __future__ import annotations

import datetime as dt
import uuid

import cloudflare
import pytest
from cloudflare import Cloudflare

from enrollment.models import Authenticator
from mfa_policies import constants as c
from mfa_policies.models import AaguidList, AppPolicy, Application, Organization, Policy

YUBIKEY = "8c39ee867f9a4a959ba3f6b097e5c2ee"


@pytest.fixture
def sdk(live_server, api_org, make_token):
    _, plaintext = make_token(api_org)
    with Cloudflare(api_token=plaintext, base_url=f"{live_server.url}/client/v4", max_retries=0, timeout=20) as client:
        yield client  # closed before the live server stops: no keep-alive connection outlives it


def test_the_sdk_pins_the_version_tested(sdk):
    assert cloudflare.__version__ == "5.9.0"


def test_organization_get_and_update(sdk, api_org):
    account = api_org.account_id
    org = sdk.zero_trust.organizations.list(account_id=account)
    assert org.name == "Your Team Name" and org.mfa_config.allowed_authenticators == []
    updated = sdk.zero_trust.organizations.update(
        account_id=account, name="Your Team Name", auth_domain=org.auth_domain, is_ui_read_only=False,
        auto_redirect_to_identity=False, allow_authenticate_via_warp=False, session_duration="24h",
        mfa_required_for_all_apps=True,
        mfa_config={"allowed_authenticators": ["biometrics", "totp"], "session_duration": "8h",
                    "amr_matching_session_duration": "1h"})
    assert updated.mfa_config.allowed_authenticators == ["biometrics", "totp"]
    assert updated.mfa_config.amr_matching_session_duration == "1h" and updated.is_ui_read_only is False
    api_org.refresh_from_db()
    assert api_org.mfa_required_for_all_apps and api_org.amr_matching_enabled and api_org.session_duration == "8h"
    assert sdk.zero_trust.organizations.list(account_id=account).session_duration == "24h"


def test_lists_and_their_items_with_auto_pagination(sdk, api_org):
    account = api_org.account_id
    values = [uuid.UUID(int=i).hex for i in range(1, 61)]
    created = sdk.zero_trust.gateway.lists.create(
        account_id=account, name="Approved security keys", type="AAGUID", description="AAGUIDs for MFA enrollment",
        items=[{"value": v, "description": f"key {i}"} for i, v in enumerate(values)])
    assert uuid.UUID(created.id) and created.count == 60 and created.type == "AAGUID"
    assert [item.value for item in sdk.zero_trust.gateway.lists.items.list(created.id, account_id=account,
                                                                           per_page=25)] == values
    assert [gl.id for gl in sdk.zero_trust.gateway.lists.list(account_id=account)] == [created.id]
    edited = sdk.zero_trust.gateway.lists.edit(created.id, account_id=account, append=[{"value": YUBIKEY}],
                                               remove=values[:59])
    assert [item.value for item in edited.items] == [values[59], YUBIKEY]
    replaced = sdk.zero_trust.gateway.lists.update(created.id, account_id=account, name="Renamed",
                                                   items=[{"value": YUBIKEY, "description": "YubiKey"}])
    assert replaced.name == "Renamed" and replaced.count == 1
    assert sdk.zero_trust.gateway.lists.get(created.id, account_id=account).items[0].description == "YubiKey"
    sdk.zero_trust.gateway.lists.delete(created.id, account_id=account)
    assert not AaguidList.objects.exists()


def test_policies_and_applications(sdk, api_org, make_role):
    account = api_org.account_id
    api_org.allowed_authenticators = [c.TOTP, c.SECURITY_KEY]
    api_org.save()
    make_role("billing")
    policy = sdk.zero_trust.access.policies.create(
        account_id=account, name="Staff", decision="allow",
        include=[{"email_domain": {"domain": "example.com"}}, {"email": {"email": "boss@corp.test"}}],
        require=[{"auth_method": {"auth_method": "mfa"}}], exclude=[{"role": {"key": "billing"}}],
        approval_required=False, isolation_required=False, purpose_justification_required=False,
        session_duration="24h", mfa_config={"allowed_authenticators": ["security_key"], "session_duration": "1h"})
    assert uuid.UUID(policy.id) and policy.include[0].email_domain.domain == "example.com"
    assert policy.require[0].auth_method.auth_method == "mfa"
    assert policy.model_extra.get("exclude") == [{"role": {"key": "billing"}}] or policy.exclude
    assert Policy.objects.get(public_id=policy.id).mfa_mode == c.MODE_CUSTOM
    second = sdk.zero_trust.access.policies.create(account_id=account, name="Billing", decision="allow",
                                                   include=[{"everyone": {}}])
    app = sdk.zero_trust.access.applications.create(
        account_id=account, name="Payroll", type="self_hosted", domain="payroll.example.com/payroll/",
        session_duration="8h", app_launcher_visible=True, tags=["hr"],
        policies=[{"id": policy.id, "precedence": 1}, second.id],
        mfa_config={"mfa_disabled": True})
    assert uuid.UUID(app.id) and app.domain == "payroll.example.com/payroll/"
    assert Application.objects.get(public_id=app.id).path_prefixes == ["/payroll/"]
    assert [(p.id, p.precedence) for p in app.policies] == [(policy.id, 1), (second.id, 2)]
    got = sdk.zero_trust.access.applications.get(app.id, account_id=account)
    assert got.name == "Payroll" and got.tags == ["hr"] and got.mfa_config.mfa_disabled is True
    updated = sdk.zero_trust.access.applications.update(app.id, account_id=account, name="Payroll",
                                                        type="self_hosted", domain="payroll.example.com/pay/")
    assert updated.domain == "payroll.example.com/pay/" and len(updated.policies) == 2  # omitted: kept
    scoped = sdk.zero_trust.access.applications.policies.create(app.id, account_id=account, name="Scoped",
                                                                decision="allow", include=[{"everyone": {}}])
    assert [p.name for p in sdk.zero_trust.access.applications.policies.list(app.id, account_id=account)] == [
        "Staff", "Billing", "Scoped"]
    assert AppPolicy.objects.filter(policy__public_id=scoped.id).get().precedence == 3
    for i in range(30):
        sdk.zero_trust.access.policies.create(account_id=account, name=f"P{i:02d}", decision="allow",
                                              include=[{"everyone": {}}])
    assert len(list(sdk.zero_trust.access.policies.list(account_id=account, per_page=7))) == 33
    assert [a.id for a in sdk.zero_trust.access.applications.list(account_id=account)] == [app.id]
    sdk.zero_trust.access.policies.update(policy.id, account_id=account, name="Staff", decision="deny",
                                          include=[{"everyone": {}}])
    assert Policy.objects.get(public_id=policy.id).decision == c.DENY
    sdk.zero_trust.access.applications.delete(app.id, account_id=account)
    sdk.zero_trust.access.policies.delete(second.id, account_id=account)
    assert not Application.objects.exists() and not Policy.objects.filter(public_id=second.id).exists()


def test_users_with_auto_pagination_filters_and_a_lockout_recovery(sdk, api_org, make_user, make_member):
    account = api_org.account_id
    for i in range(60):
        make_member(make_user(f"user{i:02d}@x.test", name=f"User {i:02d}"), api_org)
    target = make_user("user0@x.test")  # a prefix of every other address
    make_member(target, api_org)
    key = Authenticator.objects.create(user=target, kind=c.SECURITY_KEY, name="Lost key", credential_id="lost",
                                       public_key=b"k", created_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    emails = [user.email for user in sdk.zero_trust.access.users.list(account_id=account, per_page=25)]
    assert len(emails) == 61 and emails == sorted(emails)
    # The lockout script: find the user by email, delete result[0]'s devices.
    [found] = sdk.zero_trust.access.users.list(account_id=account, email="user0@x.test").result
    assert found.id == str(target.pk) and sdk.zero_trust.access.users.get(found.id, account_id=account).email == \
        "user0@x.test"
    devices = sdk.get(f"/accounts/{account}/access/users/{found.id}/mfa_authenticators", cast_to=object)
    assert [d["id"] for d in devices["result"]] == [str(key.pk)]
    sdk.delete(f"/accounts/{account}/access/users/{found.id}/mfa_authenticators/{key.pk}", cast_to=object)
    assert not Authenticator.objects.filter(user=target).exists()
    assert len(sdk.zero_trust.access.users.list(account_id=account, search="user5").result) == 10


def test_sdk_errors_carry_the_envelope(sdk, api_org):
    with pytest.raises(cloudflare.BadRequestError) as raised:
        sdk.zero_trust.organizations.update(account_id=api_org.account_id, name="x", extra_body={"surprise": 1})
    assert "surprise" in str(raised.value)
    assert Organization.objects.get(pk=api_org.pk).name == "Your Team Name"
