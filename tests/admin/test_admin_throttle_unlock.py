"""Lockout tools on a user's admin page: their MFA verification throttle (SECURITY rows 3, 4) is
shown near the top, and an administrator holding ``enrollment.change_verificationthrottle``
unlocks it through :func:`enrollment.flows.throttle_unlock` — confirmed, CSRF-protected, audited
with the admin as actor and the user as subject, and e-mailed to the user."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, User
from enrollment import flows, throttle
from enrollment.messages import EnrollmentError
from enrollment.models import VerificationThrottle
from tests.support.admin import into_admin
from tests.support.authenticators import lock_out, session_request

UNLOCK_PERMISSION = "change_verificationthrottle"


def _unlock_url(user):
    return reverse("admin:accounts_user_mfa_throttle_unlock", args=[user.pk])


def _change_url(user):
    return reverse("admin:accounts_user_change", args=[user.pk])


@pytest.fixture
def locked_out(demo, clock):
    """other@demo.test after 100 wrong codes: hard-locked for an hour."""
    user = User.objects.get(email="other@demo.test")
    lock_out(user)
    return user


def _staff(email, *codenames):
    user = User.objects.get(email=email)
    user.is_staff = True
    user.save()
    for codename in ("view_user", *codenames):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return User.objects.get(pk=user.pk)  # fresh permission cache


# ------------------------------------------------------------------------------- the throttle
def test_the_state_reports_the_hard_lock_and_its_end(locked_out, clock):
    state = throttle.state_of(locked_out)
    assert state.consecutive_failures == throttle.HARD_LOCK_AT
    assert state.locked_until == state.next_attempt_at == clock.now + throttle.LOCK_COOL_DOWN
    assert state.is_waiting and not state.is_clear


def test_the_state_reports_the_growing_delay_and_then_that_the_user_may_try(make_user, clock):
    user = make_user()
    lock_out(user, failures=throttle.FREE_ATTEMPTS + 3)
    state = throttle.state_of(user)
    assert state.locked_until is None and state.next_attempt_at == clock.now + dt.timedelta(seconds=8)
    clock.advance(seconds=8)
    assert not throttle.state_of(user).is_waiting and throttle.state_of(user).consecutive_failures == 8


def test_a_user_without_failures_has_a_clear_state(make_user):
    assert throttle.state_of(make_user()) == throttle.ThrottleState()


# ------------------------------------------------------------------------------------ the flow
def test_an_admin_unlock_clears_the_throttle_audits_and_mails(locked_out, clock, run_on_commit):
    admin = User.objects.get(email="admin@demo.test")
    locked_until = clock.now + throttle.LOCK_COOL_DOWN
    with pytest.raises(EnrollmentError, match="locked until"):
        throttle.check_allowed(locked_out)
    mail.outbox.clear()
    with run_on_commit():
        before = flows.throttle_unlock(request=session_request(admin, remote_addr="10.9.8.7"), acting_user=admin,
                                       user=locked_out)
    assert before.consecutive_failures == throttle.HARD_LOCK_AT
    throttle.check_allowed(locked_out)  # may verify again at once
    assert throttle.state_of(locked_out).is_clear
    event = AuditEvent.objects.get(action="throttle.unlocked")
    assert (event.actor, event.subject_user, event.ip_address, event.at) == (admin, locked_out, "10.9.8.7", clock.now)
    assert event.object_type == "enrollment.verificationthrottle" and event.object_id == str(locked_out.pk)
    assert event.before == {"consecutive_failures": 100, "last_failure_at": clock.now.isoformat(),
                            "locked_until": locked_until.isoformat()}
    assert event.after == {"consecutive_failures": 0, "last_failure_at": None, "locked_until": None}
    assert [m.to for m in mail.outbox] == [[locked_out.email]]
    assert "unlocked" in mail.outbox[0].subject and "admin@demo.test" in mail.outbox[0].body
    assert "100 consecutive failed attempts" in mail.outbox[0].body


def test_unlocking_a_clear_throttle_changes_and_audits_nothing(demo, clock):
    admin, user = User.objects.get(email="admin@demo.test"), User.objects.get(email="p1@demo.test")
    assert flows.throttle_unlock(request=session_request(admin), acting_user=admin, user=user).is_clear
    assert not AuditEvent.objects.filter(action="throttle.unlocked").exists()
    assert not VerificationThrottle.objects.filter(user=user).exists()


@pytest.mark.parametrize("email, staff, codenames", [
    ("p1@demo.test", False, ()),                               # an ordinary user
    ("p2@demo.test", False, (UNLOCK_PERMISSION,)),             # the permission without staff status
    ("mixed@demo.test", True, ()),                             # staff without the permission
    ("mixed@demo.test", True, ("delete_authenticator",)),      # deleting devices is another permission
], ids=["user", "permission-without-staff", "staff-without-permission", "delete-permission-only"])
def test_the_flow_refuses_without_staff_and_the_unlock_permission(locked_out, clock, email, staff, codenames):
    actor = User.objects.get(email=email)
    actor.is_staff = staff
    actor.save()
    for codename in codenames:
        actor.user_permissions.add(Permission.objects.get(codename=codename))
    actor = User.objects.get(pk=actor.pk)
    with pytest.raises(PermissionDenied):
        flows.throttle_unlock(request=session_request(actor), acting_user=actor, user=locked_out)
    assert throttle.state_of(locked_out).consecutive_failures == throttle.HARD_LOCK_AT
    assert not AuditEvent.objects.filter(action="throttle.unlocked").exists()


def test_staff_with_only_the_unlock_permission_may_unlock(locked_out, clock):
    helpdesk = _staff("mixed@demo.test", UNLOCK_PERMISSION)
    assert not flows.may_delete_for_others(helpdesk)
    flows.throttle_unlock(request=session_request(helpdesk), acting_user=helpdesk, user=locked_out)
    assert throttle.state_of(locked_out).is_clear
    assert AuditEvent.objects.get(action="throttle.unlocked").actor == helpdesk


# ----------------------------------------------------------------------------------- the admin
def test_the_user_page_shows_the_lock_near_the_top_with_the_unlock_action(client, locked_out, clock):
    until = clock.now + throttle.LOCK_COOL_DOWN
    into_admin(client, clock, "admin@demo.test")
    html = client.get(_change_url(locked_out)).content.decode()
    assert (f'100 consecutive failed attempts: locked until <time datetime="{until.isoformat()}">'
            f'{until:%Y-%m-%d %H:%M:%S} UTC</time>.') in html
    assert _unlock_url(locked_out) in html
    # MFA verification and MFA devices come right after the sign-in fields, before the rest.
    positions = [html.index(marker) for marker in ('name="email"', 'id="mfa-verification"', 'id="mfa-devices"',
                                                   ">Profile<", ">Permissions<", ">Dates<")]
    assert positions == sorted(positions)


def test_a_clear_throttle_shows_no_unlock_action(client, demo, clock):
    into_admin(client, clock, "admin@demo.test")
    user = User.objects.get(email="p1@demo.test")
    html = client.get(_change_url(user)).content.decode()
    assert "No failed verifications: the user can verify now." in html
    assert _unlock_url(user) not in html


def test_unlock_is_confirmed_then_done_with_a_message(client, locked_out, clock):
    into_admin(client, clock, "admin@demo.test")
    confirm = client.get(_unlock_url(locked_out))
    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert "Unlock MFA verification for <strong>other@demo.test</strong>?" in body
    assert "csrfmiddlewaretoken" in body and "100 consecutive failed attempts" in body
    assert throttle.state_of(locked_out).consecutive_failures == 100, "GET changes nothing"
    response = client.post(_unlock_url(locked_out), follow=True)
    assert response.redirect_chain == [(_change_url(locked_out), 302)]
    html = response.content.decode()
    assert ("MFA verification of other@demo.test unlocked (100 consecutive failed attempts cleared). "
            "They can verify again now.") in html
    assert "No failed verifications: the user can verify now." in html
    assert throttle.state_of(locked_out).is_clear
    assert AuditEvent.objects.filter(action="throttle.unlocked", subject_user=locked_out).count() == 1


def test_unlock_without_the_csrf_token_is_refused(client, locked_out, clock):
    into_admin(client, clock, "admin@demo.test")
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    assert strict.get(_unlock_url(locked_out)).status_code == 200
    assert strict.post(_unlock_url(locked_out)).status_code == 403
    assert throttle.state_of(locked_out).consecutive_failures == 100


def test_staff_without_the_permission_sees_no_unlock_and_gets_403(client, locked_out, clock):
    _staff("mixed@demo.test", "delete_authenticator")
    into_admin(client, clock, "mixed@demo.test")
    page = client.get(_change_url(locked_out))
    assert page.status_code == 200
    html = page.content.decode()
    assert "locked until" in html and _unlock_url(locked_out) not in html
    assert client.get(_unlock_url(locked_out)).status_code == 403
    assert client.post(_unlock_url(locked_out)).status_code == 403
    assert throttle.state_of(locked_out).consecutive_failures == 100
    assert not AuditEvent.objects.filter(action="throttle.unlocked").exists()


def test_the_unlock_view_refuses_other_methods_and_unknown_users(client, locked_out, clock):
    into_admin(client, clock, "admin@demo.test")
    assert client.put(_unlock_url(locked_out)).status_code == 405
    assert client.post(reverse("admin:accounts_user_mfa_throttle_unlock",
                               args=["00000000-0000-4000-8000-000000000000"])).status_code == 404
    assert throttle.state_of(locked_out).consecutive_failures == 100
