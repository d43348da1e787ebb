"""Spec §3.4 through the admin: every change that can alter a decision makes a live app session re-run
the login flow on its next request — roles and memberships, deactivation (signed out everywhere),
staff and superuser removed, connections and exemptions, policy links."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from mfa_policies.models import AppPolicy, Application, Connection, Membership, Organization, Policy, Role
from tests.support.authenticators import code_at, enroll_totp
from tests.support.html_forms import form_fields
from tests.support.signin import sign_in

APP = "/demo/a/"


def _live_app_session(clock, email):
    """A browser of ``email`` holding a live app session on Application A (past its MFA)."""
    browser = Client()
    _, otp = enroll_totp(User.objects.get(email=email))
    clock.advance(seconds=31)
    sign_in(browser, email)
    challenge = browser.get(APP)
    if challenge.status_code == 302 and challenge["Location"].startswith("/mfa/verify/"):
        assert browser.post(challenge["Location"], {"code": code_at(otp)}).status_code == 302
    assert browser.get(APP).status_code == 200
    return browser


def _granted_at(browser) -> float:
    app = Application.objects.get(name="Application A")
    return browser.session["mfagate.apps"][str(app.pk)]["granted_at"]


def _hot_path_kept(browser, clock) -> bool:
    """Whether the next request passed on the app session it held (no new login flow)."""
    held = _granted_at(browser)
    clock.advance(minutes=1)
    response = browser.get(APP)
    return response.status_code == 200 and _granted_at(browser) == held


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a block as a committed request would: its on-commit publications run."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def admin_change(demo_admin_client, committed):
    """Post an admin change form as the browser shows it, with ``changes`` (``None`` unticks)."""

    def change(url, form_id, **changes):
        data = form_fields(demo_admin_client.get(url).content.decode(), form_id)
        for name, value in changes.items():
            if value is None:
                data.pop(name, None)
            else:
                data[name] = value if isinstance(value, list) else [value]
        data["_save"] = ["Save"]
        with committed():
            response = demo_admin_client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:2000]

    return change


@pytest.fixture
def other(demo_admin_client, clock):
    """other@demo.test with a live app session on Application A — and a control: nothing changed,
    the hot path holds."""
    browser = _live_app_session(clock, "other@demo.test")
    assert _hot_path_kept(browser, clock)
    return browser


def test_a_membership_role_change_reruns_the_login_flow(other, admin_change, clock):
    membership = Membership.objects.get(user__email="other@demo.test")
    billing = Role.objects.get(key="billing")
    admin_change(reverse("admin:mfa_policies_membership_change", args=[membership.pk]),
                "membership_form", roles=[str(billing.pk)])
    assert not _hot_path_kept(other, clock)


def test_ending_a_membership_reruns_the_login_flow_and_refuses(other, demo_admin_client, committed, clock):
    membership = Membership.objects.get(user__email="other@demo.test")
    with committed():
        demo_admin_client.post(reverse("admin:mfa_policies_membership_delete", args=[membership.pk]), {"post": "yes"})
    clock.advance(minutes=1)
    assert other.get(APP).status_code == 403, "no longer a member: no policy matches"


def test_deactivating_a_user_signs_them_out_everywhere(other, admin_change, clock):
    user = User.objects.get(email="other@demo.test")
    admin_change(reverse("admin:accounts_user_change", args=[user.pk]), "user_form", is_active=None)
    response = other.get(APP)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_removing_staff_and_superuser_reruns_the_login_flow(admin_change, clock):
    user = User.objects.get(email="other@demo.test")
    user.is_staff = user.is_superuser = True
    user.save()
    browser = _live_app_session(clock, "other@demo.test")
    admin_change(reverse("admin:accounts_user_change", args=[user.pk]), "user_form",
                is_staff=None, is_superuser=None)
    assert not _hot_path_kept(browser, clock)


def test_an_exemption_change_reruns_the_login_flow(other, admin_change, clock):
    org = Organization.objects.get(name="Demo")
    viewer = Role.objects.get(key="viewer")
    exempt = [str(pk) for pk in org.exempt_roles.values_list("pk", flat=True)] + [str(viewer.pk)]
    admin_change(reverse("admin:mfa_policies_organization_change", args=[org.pk]),
                "organization_form", exempt_roles=exempt)
    assert not _hot_path_kept(other, clock)


def test_a_connection_change_reruns_the_login_flow(other, admin_change, clock):
    okta = Connection.objects.get(key="okta")
    admin_change(reverse("admin:mfa_policies_connection_change", args=[okta.pk]),
                "connection_form", kind="saml")
    assert not _hot_path_kept(other, clock)


def test_a_policy_link_changed_in_the_inline_reruns_the_login_flow(other, demo_admin_client, committed, clock):
    app = Application.objects.get(name="Application A")
    url = reverse("admin:mfa_policies_application_change", args=[app.pk])
    data = form_fields(demo_admin_client.get(url).content.decode(), "application_form")
    everyone = AppPolicy.objects.get(application=app, policy__name="Everyone")
    row = next(name.rsplit("-", 1)[0] for name, values in data.items()
               if name.endswith("-id") and values == [str(everyone.pk)])
    data[f"{row}-precedence"] = ["9"]
    data["_save"] = ["Save"]
    with committed():
        assert demo_admin_client.post(url, data).status_code == 302
    assert AppPolicy.objects.get(pk__isnull=False, application=app, policy__name="Everyone").precedence == 9
    assert not _hot_path_kept(other, clock)


def test_detaching_a_policy_in_the_inline_is_audited(demo_admin_client, clock):
    from accounts.models import AuditEvent

    app = Application.objects.get(name="Application A")
    url = reverse("admin:mfa_policies_application_change", args=[app.pk])
    data = form_fields(demo_admin_client.get(url).content.decode(), "application_form")
    policy_2 = AppPolicy.objects.get(application=app, policy=Policy.objects.get(name="Policy 2"))
    row = next(name.rsplit("-", 1)[0] for name, values in data.items()
               if name.endswith("-id") and values == [str(policy_2.pk)])
    data[f"{row}-DELETE"] = ["on"]
    data["_save"] = ["Save"]
    before = AuditEvent.objects.count()
    assert demo_admin_client.post(url, data).status_code == 302
    assert not AppPolicy.objects.filter(pk=policy_2.pk).exists()
    assert "apppolicy.delete" in AuditEvent.objects.order_by("id").values_list("action", flat=True)[before:]
    assert set(AppPolicy.objects.filter(application=app).values_list("policy__name", flat=True)) == {
        "Policy 1", "Everyone"}, "the links the row did not touch keep their place"
