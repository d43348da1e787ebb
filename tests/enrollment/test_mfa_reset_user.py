"""``manage.py mfa_reset_user EMAIL``: the way out when the last administrator is locked out. It
deletes every MFA device through the admin-delete path (audit, e-mail, revocation) and clears the
throttle, with the command — not a user account — as the audited actor."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import AuditEvent, User
from enrollment import flows, throttle
from enrollment.management.commands.mfa_reset_user import Command
from enrollment.models import Authenticator
from tests.support.authenticators import code_at, enroll_totp, enroll_webauthn, lock_out, session_request
from tests.support.signin import sign_in
from tests.support.webauthn_fakes import FakeAuthenticator

VERIFY = "/mfa/verify/"


def reset(*args, answer=None, monkeypatch=None) -> str:
    out = StringIO()
    if answer is not None:
        monkeypatch.setattr("builtins.input", lambda prompt: answer)
    call_command("mfa_reset_user", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def locked_admin(demo, clock):
    """admin@demo.test — the only administrator — with a TOTP and a security key, signed in and past
    MFA on the Admin console in their own browser, then locked out by 100 wrong codes."""
    user = User.objects.get(email="admin@demo.test")
    totp_authenticator, otp = enroll_totp(user, name="Admin phone")
    key = enroll_webauthn(user, FakeAuthenticator(), name="Desk key")
    browser = Client()
    sign_in(browser, user.email)
    clock.advance(seconds=31)
    assert browser.get("/admin/")["Location"].startswith(VERIFY)
    assert browser.post(f"{VERIFY}?next=/admin/", {"code": code_at(otp)})["Location"] == "/admin/"
    assert browser.get("/admin/").status_code == 200
    lock_out(user)
    return user, [totp_authenticator, key], browser


def test_it_deletes_every_device_audits_mails_and_clears_the_throttle(locked_admin, clock, run_on_commit):
    user, devices, _ = locked_admin
    mail.outbox.clear()
    with run_on_commit():
        out = reset(user.email, "--yes")
    assert not Authenticator.objects.filter(user=user).exists()
    assert throttle.state_of(user).is_clear
    deletions = AuditEvent.objects.filter(action="authenticator.deleted_by_admin").order_by("id")
    assert [e.object_id for e in deletions] == [str(d.pk) for d in devices]
    unlock = AuditEvent.objects.get(action="throttle.unlocked")
    for event in (*deletions, unlock):
        assert event.actor is None and event.subject_user == user and event.ip_address is None
        assert event.actor_label.startswith("system (manage.py mfa_reset_user, OS user ")
    assert unlock.before["consecutive_failures"] == throttle.HARD_LOCK_AT
    assert [m.to for m in mail.outbox] == [[user.email]] * 3
    assert "on the server, with manage.py mfa_reset_user" in mail.outbox[0].body
    for device in devices:
        assert f"deleted MFA device {device.pk}  {device.name}" in out
    assert "cleared the MFA verification throttle (100 consecutive failed attempts)" in out
    assert "Audited as “system (manage.py mfa_reset_user, OS user " in out


def test_the_users_live_session_re_runs_the_login_flow_and_is_sent_to_enroll(locked_admin, clock, run_on_commit):
    user, _, browser = locked_admin
    with run_on_commit():
        reset(user.email, "--yes")
    response = browser.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/AddMfaDevice?next=")


def test_it_asks_first_and_a_no_changes_nothing(locked_admin, clock, monkeypatch):
    user, devices, browser = locked_admin
    with pytest.raises(CommandError, match="cancelled: nothing was changed"):
        reset(user.email, answer="no", monkeypatch=monkeypatch)
    assert Authenticator.objects.filter(user=user).count() == len(devices)
    assert throttle.state_of(user).consecutive_failures == throttle.HARD_LOCK_AT
    assert not AuditEvent.objects.filter(action__in=["authenticator.deleted_by_admin", "throttle.unlocked"]).exists()


def test_it_lists_what_it_will_do_and_a_yes_does_it(locked_admin, clock, monkeypatch):
    user, devices, _ = locked_admin
    prompts = []
    monkeypatch.setattr("builtins.input", lambda prompt: prompts.append(prompt) or "yes")
    out = StringIO()
    call_command("mfa_reset_user", user.email.upper(), stdout=out)
    assert prompts == [f"Reset MFA for {user.email}: delete 2 MFA device(s) and clear the throttle? "
                       "Type 'yes' to continue: "]
    listing = out.getvalue().split("deleted MFA device")[0]
    assert all(f"MFA device {d.pk}  {d.name}" in listing for d in devices)
    assert "MFA verification throttle: 100 consecutive failed attempts" in listing
    assert not Authenticator.objects.filter(user=user).exists()


def test_an_unknown_email_exits_non_zero_with_a_message(db, capsys):
    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["manage.py", "mfa_reset_user", "ghost@demo.test", "--yes", "--skip-checks"])
    assert exited.value.code != 0
    assert "no user with email 'ghost@demo.test': nothing was changed" in capsys.readouterr().err


def test_a_user_with_nothing_to_reset_is_told_so(demo, clock):
    out = reset("p1@demo.test", "--yes")
    assert "has no MFA devices and no failed verifications: nothing to reset" in out
    assert not AuditEvent.objects.filter(action__in=["authenticator.deleted_by_admin", "throttle.unlocked"]).exists()


def test_the_command_paths_take_only_a_command_actor(locked_admin, clock):
    """The permission-free paths cannot be handed a (staff) user by mistake."""
    user, devices, _ = locked_admin
    staff = User.objects.get(email="admin@demo.test")
    with pytest.raises(TypeError):
        flows.mfa_reset_by_command(actor=staff, user=user)
    with pytest.raises(TypeError):
        flows.authenticator_delete_by_command(actor=staff, authenticator_id=devices[0].pk)
    assert Authenticator.objects.filter(user=user).count() == 2


def test_the_request_path_still_needs_the_permission(locked_admin, clock):
    user, devices, _ = locked_admin
    intruder = User.objects.get(email="p1@demo.test")
    with pytest.raises(flows.PermissionDenied):
        flows.authenticator_delete_by_admin(request=session_request(intruder), acting_user=intruder,
                                            authenticator_id=devices[0].pk)
