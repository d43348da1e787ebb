"""Admin edits go through the audited service and show validation next to the field."""

from __future__ import annotations

from accounts.models import AuditEvent
from mfa_policies.models import Application, Organization
from tests.support.admin import field_errors, org_form


def test_the_admin_console_needs_mfa_even_for_the_exempt_admin_role(client, demo, clock):
    client.post("/accounts/login/", {"login": "admin@demo.test", "password": "demo-password"})
    response = client.get("/admin/mfa_policies/organization/")
    assert response.status_code == 302
    assert response["Location"].startswith("/AddMfaDevice?next=")  # nothing enrolled yet: enroll first


def test_non_admins_are_refused_the_admin_console(client, demo, clock):
    client.post("/accounts/login/", {"login": "other@demo.test", "password": "demo-password"})
    response = client.get("/admin/")
    assert response.status_code == 403
    assert "no policy of application “Admin console” matches" in response.content.decode()


def test_turning_off_independent_mfa_with_custom_policies_is_refused_in_the_admin(demo_admin_client, demo):
    response = demo_admin_client.post(f"/admin/mfa_policies/organization/{demo.pk}/change/",
                                      org_form(demo, allowed_authenticators=[], mfa_required_for_all_apps=""))
    assert response.status_code == 200
    assert "policy “Policy 1”" in response.content.decode()
    assert Organization.objects.get(pk=demo.pk).allowed_authenticators == ["totp", "security_key", "biometrics"]


def test_an_admin_change_is_audited_with_the_actor_and_revokes_app_sessions(demo_admin_client, demo):
    versions = dict(Application.objects.values_list("name", "config_version"))
    response = demo_admin_client.post(f"/admin/mfa_policies/organization/{demo.pk}/change/",
                                      org_form(demo, session_duration="12h"), REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="organization.update")
    assert event.actor.email == "admin@demo.test" and event.ip_address == "198.51.100.7"
    assert event.after["session_duration"] == "12h"
    for name, version in Application.objects.values_list("name", "config_version"):
        assert version == versions[name] + 1


def test_a_bad_duration_is_shown_next_to_its_field(demo_admin_client, demo):
    response = demo_admin_client.post(f"/admin/mfa_policies/organization/{demo.pk}/change/",
                                      org_form(demo, session_duration="2 days"))
    assert response.status_code == 200
    row = field_errors(response, "session_duration")
    assert "errorlist" in row and "<li>“2 days” is not a duration; use whole hours and minutes" in row


def test_the_policy_tester_explains_a_decision(demo_admin_client, demo):
    app = Application.objects.get(name="Application A")
    response = demo_admin_client.get("/admin/mfa_policies/application/policy-tester/",
                                     {"email": "p1@demo.test", "application": app.pk, "connection": "password",
                                      "amr": ""})
    body = response.content.decode()
    assert response.status_code == 200
    assert "allowed with MFA (Security key, every 1h)" in body
    assert "policy “Policy 1” (allow) matches" in body


def test_the_policy_tester_names_bad_input_next_to_the_field(demo_admin_client, demo):
    response = demo_admin_client.get("/admin/mfa_policies/application/policy-tester/",
                                     {"email": "ghost@demo.test", "application": "999999", "connection": "nope"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is no user with email ghost@demo.test." in body
    assert "Select a valid choice" in body
    assert "policy-tester-result" not in body


def test_the_policy_tester_is_for_staff_only(demo_admin_client, demo):
    from accounts.models import User

    User.objects.filter(email="admin@demo.test").update(is_staff=False, is_superuser=False)
    response = demo_admin_client.get("/admin/mfa_policies/application/policy-tester/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
