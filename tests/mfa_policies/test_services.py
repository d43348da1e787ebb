"""Configuration writes: validated, audited in the same transaction, and they revoke app sessions."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditEvent
from mfa_policies import constants as c
from mfa_policies.models import Application, Organization
from mfa_policies.services import configuration_save, policy_attach


def test_saving_an_organization_audits_and_raises_its_apps_config_version(make_org, make_app, make_user):
    admin = make_user("admin@x.test", is_staff=True)
    org = make_org()
    app, other_app = make_app(org), make_app(make_org())
    org.session_duration = "1h"
    configuration_save(acting_user=admin, instance=org, ip_address="203.0.113.9")
    event = AuditEvent.objects.get(action="organization.update")
    assert event.actor == admin and event.ip_address == "203.0.113.9"
    assert event.before["session_duration"] == "24h" and event.after["session_duration"] == "1h"
    assert Application.objects.get(pk=app.pk).config_version == app.config_version + 1
    assert Application.objects.get(pk=other_app.pk).config_version == other_app.config_version


def test_an_invalid_change_writes_nothing(make_org, make_user):
    admin = make_user(is_staff=True)
    org = make_org()
    org.session_duration = "forever"
    with pytest.raises(ValidationError):
        configuration_save(acting_user=admin, instance=org)
    assert Organization.objects.get(pk=org.pk).session_duration == "24h"
    assert not AuditEvent.objects.exists()


def test_exempt_roles_are_audited_as_part_of_the_change(make_org, make_role, make_user):
    admin = make_user(is_staff=True)
    org = make_org()
    role = make_role("admin")
    configuration_save(acting_user=admin, instance=org, m2m={"exempt_roles": [role]})
    event = AuditEvent.objects.get()
    assert event.after["exempt_roles"] == [str(role.pk)] and event.before["exempt_roles"] == []


def test_an_unchanged_save_is_not_audited_and_writes_nothing(make_org, make_role, make_user):
    org = make_org()
    org.exempt_roles.set([make_role("contractor")])
    stamp = Organization.objects.get(pk=org.pk).updated_at
    configuration_save(acting_user=make_user(), instance=Organization.objects.get(pk=org.pk),
                       m2m={"exempt_roles": list(org.exempt_roles.all())})
    assert not AuditEvent.objects.exists()
    assert Organization.objects.get(pk=org.pk).updated_at == stamp


def test_changing_a_policy_revokes_the_apps_it_is_attached_to(make_org, make_app, make_policy, make_user):
    admin = make_user(is_staff=True)
    org = make_org()
    app, unrelated = make_app(org), make_app(org)
    policy = make_policy(org, apps=[app])
    policy.mfa_mode = c.MODE_DISABLED
    configuration_save(acting_user=admin, instance=policy)
    assert Application.objects.get(pk=app.pk).config_version == app.config_version + 1
    assert Application.objects.get(pk=unrelated.pk).config_version == unrelated.config_version


def test_attaching_a_policy_of_another_organization_is_refused(make_org, make_app, make_policy, make_user):
    app = make_app(make_org())
    foreign = make_policy(make_org())
    with pytest.raises(ValidationError, match="its own organization"):
        policy_attach(acting_user=make_user(), application=app, policy=foreign, precedence=1)
    assert not app.app_policies.exists()


@pytest.mark.django_db(transaction=True)
def test_audit_rows_cannot_be_written_outside_the_changes_transaction(make_user):
    from django.db import transaction

    from accounts.audit import audit_record

    actor = make_user()
    with pytest.raises(RuntimeError, match="same transaction"):
        audit_record(actor=actor, action="probe", object_type="x")
    with transaction.atomic():
        audit_record(actor=actor, action="probe", object_type="x")
    assert AuditEvent.objects.filter(action="probe").count() == 1


def test_every_configuration_change_publishes_a_generation_no_process_has_seen(make_org, make_user,
                                                                             django_capture_on_commit_callbacks):
    """The database's generation rises with every change — whatever the cache lost meanwhile — records
    the organization it touched, and is announced once committed."""
    from django.core.cache import cache

    from mfa_policies import generation

    org = make_org()
    announced = []
    generation.add_listener(announced.append)
    try:
        seen = {generation.configuration_generation()}
        for duration in ("1h", "2h", "3h"):
            cache.clear()  # evicted between changes: nothing depends on it
            before = generation.configuration_generation()
            org.session_duration = duration
            with django_capture_on_commit_callbacks(execute=True):
                configuration_save(acting_user=make_user(), instance=org)
            value = generation.configuration_generation()
            assert value > before and value not in seen
            assert announced[-1] == value
            assert generation.configuration_changes_since(before) == generation.Changes(
                generation=value, organization_ids=frozenset({org.pk}))
            seen.add(value)
    finally:
        generation._listeners.remove(announced.append)


def test_deleting_a_policy_is_audited_and_revokes_its_apps(make_org, make_app, make_policy, make_user,
                                                            django_capture_on_commit_callbacks):
    org = make_org()
    app = make_app(org)
    policy = make_policy(org, "Contractors", apps=[app])
    from mfa_policies.services import configuration_delete

    with django_capture_on_commit_callbacks(execute=True):
        configuration_delete(acting_user=make_user(is_staff=True), instance=policy, ip_address="192.0.2.1")
    event = AuditEvent.objects.get(action="policy.delete")
    assert event.object_label == "Contractors" and event.before["name"] == "Contractors"
    assert Application.objects.get(pk=app.pk).config_version == app.config_version + 1


def test_a_request_for_an_application_deleted_behind_this_process_back_is_matched_again_not_a_500(
        client, demo, clock):
    from accounts.models import User

    client.force_login(User.objects.get(email="p2@demo.test"))
    assert client.get("/demo/a/").status_code == 200  # this process's table now holds Application A
    # Deleted without the service (a shell, another tool): no generation was published.
    Application.objects.filter(name="Application A").delete()
    session = client.session
    session.pop("mfagate.apps", None)  # the app session is gone too, so the login flow runs
    session.save()
    response = client.get("/demo/a/?x=1")
    assert response.status_code == 307 and response["Location"] == "/demo/a/?x=1"
    # The retry is matched against the reloaded table: no application covers /demo/a/ any more.
    assert client.get("/demo/a/?x=1").status_code == 200


def test_an_organization_that_requires_one_of_its_own_aaguid_lists_can_be_deleted(make_org, make_app, make_user):
    from mfa_policies.models import AaguidItem, AaguidList
    from mfa_policies.services import aaguid_list_delete, configuration_delete

    org = make_org(allowed_authenticators=[c.SECURITY_KEY])
    make_app(org)
    keys = AaguidList.objects.create(organization=org, name="Company keys")
    AaguidItem.objects.create(aaguid_list=keys, value="8c39ee867f9a4a959ba3f6b097e5c2ee")
    org.required_aaguids = keys
    org.save()
    admin = make_user(is_staff=True)
    with pytest.raises(ValidationError):  # the list alone stays protected while it is required
        aaguid_list_delete(acting_user=admin, aaguid_list=keys)

    configuration_delete(acting_user=admin, instance=org)

    assert not Organization.objects.filter(pk=org.pk).exists()
    assert not AaguidList.objects.filter(pk=keys.pk).exists() and not Application.objects.filter(organization_id=org.pk).exists()
    event = AuditEvent.objects.get(action="organization.delete")
    assert event.before["required_aaguids"] == str(keys.pk)  # the audit keeps what was required
