"""The Organization admin's grace period and recovery switch: saved through configuration_save
(audited before/after), refusals next to their field, and the policy tester showing the grace."""

from __future__ import annotations

import datetime as dt

from accounts.models import AuditEvent, User
from mfa_policies.models import Application, Organization
from tests.support.admin import field_errors, org_form


def _change(client, org, **changes):
    return client.post(f"/admin/mfa_policies/organization/{org.pk}/change/", org_form(org, **changes))


def test_the_change_form_shows_the_grace_period_and_recovery_fields(demo_admin_client, demo):
    html = demo_admin_client.get(f"/admin/mfa_policies/organization/{demo.pk}/change/").content.decode()
    assert "Enrollment grace period" in html and "Account recovery" in html
    assert "Users who have not enrolled may skip enrollment until" in html
    assert "Users who have not enrolled may skip enrollment for this many sign-ins" in html
    assert "the grace period ends when the first of the two runs out" in html
    assert 'name="recovery_codes_enabled"' in html


def test_setting_the_grace_period_is_audited_before_and_after(demo_admin_client, demo, clock):
    response = _change(demo_admin_client, demo, enrollment_grace_until_0="2026-12-24",
                       enrollment_grace_until_1="18:00:00", enrollment_grace_sign_ins="3", recovery_codes_enabled="")
    assert response.status_code == 302, response.content.decode()[:3000]
    org = Organization.objects.get(pk=demo.pk)
    assert org.enrollment_grace_until == dt.datetime(2026, 12, 24, 18, tzinfo=dt.timezone.utc)
    assert org.enrollment_grace_sign_ins == 3 and org.recovery_codes_enabled is False
    event = AuditEvent.objects.filter(action="organization.update").latest("at")
    assert event.before["enrollment_grace_sign_ins"] is None and event.after["enrollment_grace_sign_ins"] == 3
    assert event.before["enrollment_grace_until"] is None and event.after["enrollment_grace_until"].startswith("2026-12-24")
    assert event.before["recovery_codes_enabled"] is True and event.after["recovery_codes_enabled"] is False


def test_a_past_date_and_a_bad_number_are_refused_next_to_their_fields(demo_admin_client, demo, clock):
    response = _change(demo_admin_client, demo, enrollment_grace_until_0="2026-01-01",
                       enrollment_grace_until_1="00:00:00", enrollment_grace_sign_ins="0")
    assert response.status_code == 200
    assert "Choose a date and time in the future" in field_errors(response, "enrollment_grace_until")
    assert "Enter a whole number of sign-ins from 1 to 100" in field_errors(response, "enrollment_grace_sign_ins")
    assert Organization.objects.get(pk=demo.pk).enrollment_grace_sign_ins is None
    huge = _change(demo_admin_client, demo, enrollment_grace_sign_ins="99999999999999999999")
    assert huge.status_code == 200
    assert "errorlist" in field_errors(huge, "enrollment_grace_sign_ins")


def test_saving_without_touching_the_fields_keeps_recovery_codes_on(demo_admin_client, demo):
    assert _change(demo_admin_client, demo, session_duration="12h").status_code == 302
    assert Organization.objects.get(pk=demo.pk).recovery_codes_enabled is True


def test_the_policy_tester_shows_the_grace_period(demo_admin_client, demo, clock):
    demo.enrollment_grace_sign_ins = 2
    from mfa_policies.services import configuration_save

    configuration_save(acting_user=None, instance=demo)
    app = Application.objects.get(name="Application A")
    assert not User.objects.get(email="p1@demo.test").authenticators.exists()
    body = demo_admin_client.get("/admin/mfa_policies/application/policy-tester/",
                                 {"email": "p1@demo.test", "application": app.pk, "connection": "password",
                                  "amr": ""}).content.decode()
    assert "Enrollment grace period" in body and "2 sign-ins left" in body
    assert "organization “Demo” lets users who have not enrolled skip enrollment for 2 more sign-ins" in body
