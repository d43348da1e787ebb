"""access/users and their MFA devices; admin deletion through authenticator_delete_by_admin."""

from __future__ import annotations

import datetime as dt
import uuid

from django.core import mail

from accounts.models import AuditEvent
from api import scopes as s
from enrollment.models import Authenticator
from mfa_policies import constants as c
from tests.support.api import ApiClient, db_state, messages

YUBIKEY = "8c39ee867f9a4a959ba3f6b097e5c2ee"


def security_key(user, name="YubiKey", aaguid=YUBIKEY):
    return Authenticator.objects.create(
        user=user, kind=c.SECURITY_KEY, name=name, credential_id=uuid.uuid4().hex, public_key=b"k",
        aaguid=aaguid, created_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))


def test_users_lists_members_with_their_device_count(api, api_org, make_user, make_member, make_org):
    alice, outsider = make_user("alice@x.test", name="Alice"), make_user("out@x.test")
    make_member(alice, api_org)
    make_member(outsider, make_org("Other"))
    security_key(alice)
    security_key(alice, "Spare")
    status, payload = api.get("access/users")
    assert status == 200
    assert payload["result"] == [{"id": str(alice.pk), "email": "alice@x.test", "name": "Alice",
                                  "mfa_authenticator_count": 2}]


def test_a_users_devices(api, api_org, make_user, make_member):
    alice = make_user()
    make_member(alice, api_org)
    key = security_key(alice)
    status, payload = api.get(f"access/users/{alice.pk}/mfa_authenticators")
    assert status == 200
    [device] = payload["result"]
    assert device["id"] == str(key.pk) and device["name"] == "YubiKey" and device["kind"] == "security_key"
    assert device["aaguid"] == YUBIKEY and device["created_at"].startswith("2026-01-01") and device["last_used_at"] is None
    assert "authenticator_name" in device


def test_delete_a_user_authenticator_as_the_seed_does(api, api_org, make_user, make_member, api_admin):
    alice = make_user()
    make_member(alice, api_org)
    key, spare = security_key(alice), security_key(alice, "Spare")
    status, payload = api.delete(f"access/users/{alice.pk}/mfa_authenticators/{key.pk}")
    assert status == 200 and payload["result"] == {"id": str(key.pk)}
    assert list(Authenticator.objects.filter(user=alice)) == [spare]
    event = AuditEvent.objects.get(action="authenticator.deleted_by_admin")
    assert event.actor == api_admin and event.subject_user == alice
    alice.refresh_from_db()
    assert alice.mfa_generation > 1  # the removal signal revoked the owner's sessions


def test_delete_refused_without_the_admin_permission(client, api_org, make_user, make_member, make_token):
    staff = make_user("staff@x.test", is_staff=True)
    _, plaintext = make_token(api_org, scopes=[s.USERS_REVOKE], owner=staff)
    alice = make_user()
    make_member(alice, api_org)
    key = security_key(alice)
    before = db_state()
    status, payload = ApiClient(client, api_org.account_id, plaintext).delete(
        f"access/users/{alice.pk}/mfa_authenticators/{key.pk}")
    assert status == 403 and db_state() == before


def test_users_and_devices_outside_the_account_are_404(api, api_org, make_user, make_member, make_org):
    alice, outsider = make_user(), make_user()
    make_member(alice, api_org)
    make_member(outsider, make_org("Other"))
    theirs, mine = security_key(outsider), security_key(alice)
    before = db_state()
    assert api.get(f"access/users/{outsider.pk}/mfa_authenticators")[0] == 404
    assert api.delete(f"access/users/{outsider.pk}/mfa_authenticators/{theirs.pk}")[0] == 404
    assert api.delete(f"access/users/{alice.pk}/mfa_authenticators/{theirs.pk}")[0] == 404
    assert api.delete(f"access/users/{uuid.uuid4()}/mfa_authenticators/{mine.pk}")[0] == 404
    status, payload = api.delete(f"access/users/{alice.pk}/mfa_authenticators/not-a-uuid")
    assert status == 400 and "authenticator_id" in messages(payload)
    assert api.get("access/users/123/mfa_authenticators")[0] == 400
    assert db_state() == before and not mail.outbox
