"""SECURITY row 15 (and row 14's admin delete): an administrator deletes a user's MFA device.

wagtail-2fa CVE-2020-5240: any user could view or delete others' devices. Here only active staff
holding ``enrollment.delete_authenticator`` may, through the audited flow; the victim's browser
sessions redo MFA (or go to enrollment) on their very next request.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, User
from enrollment import flows
from enrollment.models import Authenticator
from enrollment.signals import authenticator_removed
from tests.support.admin import into_admin
from tests.support.authenticators import code_at, enroll_totp, enroll_webauthn, session_request
from tests.support.signin import sign_in
from tests.support.webauthn_fakes import FakeAuthenticator

VERIFY = "/mfa/verify/"


def _delete_url(authenticator):
    return reverse("admin:accounts_user_mfa_device_delete", args=[authenticator.user_id, authenticator.pk])


@pytest.fixture
def victim(demo, clock):
    """other@demo.test with a TOTP, signed in in their own browser and past MFA on /demo/a/."""
    user = User.objects.get(email="other@demo.test")
    authenticator, otp = enroll_totp(user)
    browser = Client()
    sign_in(browser, user.email)
    browser.get("/demo/a/")
    clock.advance(seconds=31)
    assert browser.post(VERIFY, {"code": code_at(otp)})["Location"] == "/demo/a/"
    assert browser.get("/demo/a/").status_code == 200
    return user, authenticator, browser


# ------------------------------------------------------------------------------- the flow
def test_a_non_staff_user_is_refused_by_the_flow(victim, clock):
    user, authenticator, _ = victim
    intruder = User.objects.get(email="p1@demo.test")
    with pytest.raises(PermissionDenied):
        flows.authenticator_delete_by_admin(request=session_request(intruder), acting_user=intruder,
                                            authenticator_id=authenticator.pk)
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()
    assert not AuditEvent.objects.filter(action="authenticator.deleted_by_admin").exists()


def test_staff_without_the_delete_permission_is_refused_by_the_flow(victim, clock):
    user, authenticator, _ = victim
    staff = User.objects.get(email="mixed@demo.test")
    staff.is_staff = True
    staff.save()
    with pytest.raises(PermissionDenied):
        flows.authenticator_delete_by_admin(request=session_request(staff), acting_user=staff,
                                            authenticator_id=authenticator.pk)
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()


def test_the_permission_without_staff_status_is_refused(victim, clock):
    user, authenticator, _ = victim
    holder = User.objects.get(email="p2@demo.test")
    holder.user_permissions.add(Permission.objects.get(codename="delete_authenticator"))
    holder = User.objects.get(pk=holder.pk)  # fresh permission cache
    with pytest.raises(PermissionDenied):
        flows.authenticator_delete_by_admin(request=session_request(holder), acting_user=holder,
                                            authenticator_id=authenticator.pk)
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()


# ------------------------------------------------------------------------------ the admin
def test_the_user_page_lists_devices_with_delete_and_the_enrollment_link(client, victim, clock):
    user, authenticator, _ = victim
    key = enroll_webauthn(user, FakeAuthenticator(aaguid="cb69481e8ff7403993ec0a2729a154a8"), name="Blue key")
    into_admin(client, clock, "admin@demo.test")
    page = client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert str(authenticator.pk) in html and "Blue key" in html and "YubiKey" in html
    assert _delete_url(authenticator) in html and _delete_url(key) in html
    assert "http://testserver/AddMfaDevice" in html


def test_staff_without_the_permission_sees_no_delete_and_is_refused(client, victim, clock):
    user, authenticator, _ = victim
    staff = User.objects.get(email="mixed@demo.test")  # admin role: may open the Admin console
    staff.is_staff = True
    staff.save()
    staff.user_permissions.add(Permission.objects.get(codename="view_user"))
    into_admin(client, clock, staff.email)
    page = client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert page.status_code == 200 and _delete_url(authenticator) not in page.content.decode()
    assert client.get(_delete_url(authenticator)).status_code == 403
    assert client.post(_delete_url(authenticator)).status_code == 403
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()
    assert not AuditEvent.objects.filter(action="authenticator.deleted_by_admin").exists()


def test_a_non_staff_user_never_reaches_the_delete_page(client, victim, clock):
    user, authenticator, _ = victim
    sign_in(client, "p1@demo.test")
    response = client.post(_delete_url(authenticator))
    assert response.status_code in (302, 403)
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()


def test_a_device_id_under_another_user_is_404(client, victim, clock):
    user, authenticator, _ = victim
    into_admin(client, clock, "admin@demo.test")
    other = User.objects.get(email="p2@demo.test")
    url = reverse("admin:accounts_user_mfa_device_delete", args=[other.pk, authenticator.pk])
    assert client.post(url).status_code == 404
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()


def test_admin_delete_is_audited_mailed_and_the_victim_must_enroll_again(client, victim, clock, run_on_commit):
    user, authenticator, browser = victim
    into_admin(client, clock, "admin@demo.test")
    admin = User.objects.get(email="admin@demo.test")
    assert client.get(_delete_url(authenticator)).status_code == 200  # the confirmation page
    mail.outbox.clear()
    received = []
    authenticator_removed.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="admin-delete-test")
    try:
        with run_on_commit():
            response = client.post(_delete_url(authenticator), REMOTE_ADDR="10.1.2.3")
    finally:
        authenticator_removed.disconnect(dispatch_uid="admin-delete-test")
    assert [(r["user"], r["authenticator_id"], r["acting_user"]) for r in received] == [
        (user, str(authenticator.pk), admin)]
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:accounts_user_change", args=[user.pk])
    assert not Authenticator.objects.filter(pk=authenticator.pk).exists()
    event = AuditEvent.objects.get(action="authenticator.deleted_by_admin")
    assert (event.actor, event.subject_user, event.ip_address) == (admin, user, "10.1.2.3")
    assert event.at == clock.now and event.object_id == str(authenticator.pk)
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert "administrator" in mail.outbox[0].subject.lower()
    # The victim's live app session is revoked at once: nothing left, so enrollment.
    response = browser.get("/demo/a/")
    assert response.status_code == 302 and response["Location"].startswith("/AddMfaDevice?next=")


def test_after_an_admin_delete_the_victims_other_device_must_verify_again(client, victim, clock, run_on_commit):
    user, _, browser = victim
    key = enroll_webauthn(user, FakeAuthenticator())
    into_admin(client, clock, "admin@demo.test")
    with run_on_commit():
        assert client.post(_delete_url(key)).status_code == 302
    response = browser.get("/demo/a/")
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)


def test_the_admin_delete_view_refuses_other_methods(client, victim, clock):
    user, authenticator, _ = victim
    into_admin(client, clock, "admin@demo.test")
    assert client.put(_delete_url(authenticator)).status_code == 405
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()
