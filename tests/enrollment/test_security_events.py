"""Security events (issue 11 item 3): every MFA verification, throttle delay and lock, and step-up
is in the audit log, and the 5th consecutive failure e-mails the user once (ASVS 6.3.5).

Mounted as an attacker would: wrong codes and bad assertions posted to the MFA challenge and the
step-up page through the Django client, from a chosen client address; time moves with ``clock``.
"""

from __future__ import annotations

import json
import threading

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, connections

from accounts.models import AuditEvent
from enrollment import step_up, throttle, verification
from enrollment import views as enrollment_views
from enrollment.models import VerificationThrottle
from enrollment.verification import VerificationError, totp_verify
from mfa_policies import constants as c
from tests.support.authenticators import ORIGIN, code_at, enroll_totp, enroll_webauthn, lock_out, session_request
from tests.support.signin import sign_in
from tests.support.webauthn_fakes import FakeAuthenticator

PW = "correct-horse-battery"
APP = "/demo/a/"
VERIFY = "/mfa/verify/"
WA_OPTIONS = "/mfa/verify/webauthn/options/"
WA_VERIFY = "/mfa/verify/webauthn/verify/"
STEP_UP = "/account/mfa-devices/verify/"
STEP_UP_OPTIONS = "/account/mfa-devices/verify/webauthn/options/"
STEP_UP_VERIFY = "/account/mfa-devices/verify/webauthn/verify/"
ATTACKER = "203.0.113.66"
ALL_KINDS = [c.TOTP, c.SECURITY_KEY, c.BIOMETRICS]
SECURITY_ACTIONS = ("mfa.", "throttle.", "step_up.")


@pytest.fixture(autouse=True)
def _webauthn_settings(settings):
    settings.MFAGATE_WEBAUTHN_RP_ID = "localhost"
    settings.MFAGATE_WEBAUTHN_ORIGINS = [ORIGIN]
    settings.MFAGATE_WEBAUTHN_EXTRA_ROOT_CERTS = []


@pytest.fixture
def victim(make_org, make_app, make_policy, make_user, make_member):
    """A member of an organization that requires MFA on APP (every kind allowed)."""
    org = make_org(mfa_required_for_all_apps=True, allowed_authenticators=ALL_KINDS)
    make_policy(org, apps=[make_app(org, path_prefixes=[APP])])
    user = make_user("victim@example.test", password=PW)
    make_member(user, org)
    return user


class BrokenEmailBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("the mail server is down")


def _wrong(otp) -> str:
    return "000000" if code_at(otp) != "000000" else "111111"


def _events(user, *prefixes):
    rows = AuditEvent.objects.filter(subject_user=user).order_by("id")
    return [e for e in rows if e.action.startswith(prefixes or SECURITY_ACTIONS)]


def _challenge(client):
    response = client.get(APP)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY), response
    return response


def _post_wrong(client, otp, clock, run_on_commit):
    """One wrong code at the challenge, after any delay the last one started."""
    clock.advance(minutes=16)
    _challenge(client)  # the pending challenge lasts 10 minutes
    with run_on_commit():
        response = client.post(VERIFY, {"code": _wrong(otp)}, REMOTE_ADDR=ATTACKER)
    assert response.status_code == 400
    return response


def _json(client, url, data, **extra):
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


# ------------------------------------------------------------- 5 failures: one e-mail, each audited
def test_five_wrong_codes_at_the_challenge_mail_the_user_exactly_once_and_audit_every_attempt(
        client, clock, victim, run_on_commit):
    authenticator, otp = enroll_totp(victim, name="Work phone")
    sign_in(client, victim.email, PW)
    _challenge(client)
    for attempt in range(1, 8):
        _post_wrong(client, otp, clock, run_on_commit)
        assert len(mail.outbox) == (0 if attempt < throttle.NOTICE_AT else 1), attempt

    notice = mail.outbox[0]
    assert notice.to == [victim.email]
    assert notice.subject == "Failed MFA verification attempts on your account"
    assert "failed MFA verification 5 times in a row" in notice.body
    assert ATTACKER in notice.body
    assert "mfagate" in notice.body and "If this was not you" in notice.body and "change your password" in notice.body
    assert "{{" not in notice.body and "{%" not in notice.body

    failed = _events(victim, "mfa.")
    assert [e.action for e in failed] == ["mfa.verification_failed"] * 7
    for event in failed:
        assert event.actor_id == victim.pk and event.subject_user_id == victim.pk
        assert event.ip_address == ATTACKER
        assert event.object_type == "enrollment.authenticator" and event.object_id == str(authenticator.pk)
        assert event.after == {"kind": c.TOTP, "authenticator_id": str(authenticator.pk),
                               "authenticator_name": "Work phone", "purpose": "challenge",
                               "reason": "totp_invalid_code"}
    delayed = _events(victim, "throttle.")
    assert [(e.action, e.after["consecutive_failures"], e.after["wait_seconds"]) for e in delayed] == [
        ("throttle.delayed", 5, 1), ("throttle.delayed", 6, 2), ("throttle.delayed", 7, 4)]
    assert all(e.ip_address == ATTACKER and e.object_id == str(victim.pk) for e in delayed)


def test_the_notice_names_the_time_and_address_of_the_fifth_failure(client, clock, victim, run_on_commit):
    _, otp = enroll_totp(victim)
    sign_in(client, victim.email, PW)
    _challenge(client)
    for _ in range(throttle.NOTICE_AT):
        _post_wrong(client, otp, clock, run_on_commit)
    assert f"at {clock.now:%Y-%m-%d %H:%M} UTC from {ATTACKER}" in " ".join(mail.outbox[0].body.split())


def test_a_success_ends_the_series_so_the_next_five_failures_mail_again(make_user, clock, run_on_commit):
    user = make_user()
    _, otp = enroll_totp(user)

    def fail(times):
        for _ in range(times):
            clock.advance(minutes=16)
            with run_on_commit(), pytest.raises(VerificationError):
                totp_verify(request=session_request(user), user=user, code=_wrong(otp))

    fail(9)
    assert len(mail.outbox) == 1
    clock.advance(minutes=16)
    totp_verify(request=session_request(user), user=user, code=code_at(otp))
    clock.advance(seconds=31)
    fail(4)
    assert len(mail.outbox) == 1  # four in the new series: no notice yet
    fail(1)
    assert len(mail.outbox) == 2


def test_a_success_is_audited_as_verified_with_the_authenticator(client, clock, victim, run_on_commit):
    authenticator, otp = enroll_totp(victim, name="Phone")
    sign_in(client, victim.email, PW)
    _challenge(client)
    response = client.post(VERIFY, {"code": code_at(otp)}, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302 and response["Location"] == APP
    [verified] = _events(victim)
    assert verified.action == "mfa.verified" and verified.ip_address == "198.51.100.7"
    assert verified.after == {"kind": c.TOTP, "authenticator_id": str(authenticator.pk),
                              "authenticator_name": "Phone", "purpose": "challenge"}


# ------------------------------------------------------------------------ throttled attempts
def test_an_attempt_refused_during_the_delay_is_neither_counted_nor_audited(client, clock, victim, run_on_commit):
    """Decision (README "Security events"): an attempt the throttle refuses tested no code, so it
    is not a verification — not counted (the delay does not grow) and not audited (a flood of
    refused requests cannot grow the log); the delay itself was recorded once, as throttle.delayed."""
    _, otp = enroll_totp(victim)
    sign_in(client, victim.email, PW)
    _challenge(client)
    for _ in range(throttle.NOTICE_AT):
        _post_wrong(client, otp, clock, run_on_commit)
    rows = AuditEvent.objects.count()
    for _ in range(20):
        with run_on_commit():
            refused = client.post(VERIFY, {"code": code_at(otp)}, REMOTE_ADDR=ATTACKER)  # the right code, too early
        assert refused.status_code == 400 and "Too many failed attempts" in refused.content.decode()
    assert AuditEvent.objects.count() == rows
    assert VerificationThrottle.objects.get(user=victim).consecutive_failures == throttle.NOTICE_AT
    assert len(mail.outbox) == 1


def test_the_hundredth_failure_records_the_lock_once_with_its_end(make_user, clock, run_on_commit):
    user = make_user()
    with run_on_commit():
        lock_out(user, throttle.HARD_LOCK_AT - 1)
    assert not _events(user, "throttle.locked")
    with run_on_commit():
        throttle.record_failure(user, request=session_request(user, remote_addr=ATTACKER))
    [locked] = _events(user, "throttle.locked")
    assert locked.after == {"consecutive_failures": throttle.HARD_LOCK_AT,
                            "locked_until": (clock.now + throttle.LOCK_COOL_DOWN).isoformat()}
    assert locked.ip_address == ATTACKER and locked.actor_id == user.pk
    delayed = _events(user, "throttle.delayed")
    assert len(delayed) == throttle.HARD_LOCK_AT - throttle.FREE_ATTEMPTS  # failures 5…99, each a new wait
    assert delayed[-1].after["wait_seconds"] == int(throttle.MAX_DELAY.total_seconds())
    assert len(mail.outbox) == 1  # the notice at the 5th, not at the lock


def test_every_caller_of_record_failure_gets_the_events_even_without_a_request(make_user, clock, run_on_commit):
    """The recovery codes count wrong codes through throttle.record_failure too: the throttle's
    own events and the notice come from there, not from the TOTP or WebAuthn paths."""
    user = make_user()
    with run_on_commit():
        for _ in range(throttle.NOTICE_AT):
            throttle.record_failure(user)
    [delayed] = _events(user, "throttle.")
    assert delayed.action == "throttle.delayed" and delayed.ip_address is None
    assert len(mail.outbox) == 1 and "an unknown address" in mail.outbox[0].body
    assert not _events(user, "mfa.")  # the caller audits what it verified; the throttle does not guess


# -------------------------------------------------------------------- the row survives the error
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("atomic_requests", [False, True], ids=["plain", "ATOMIC_REQUESTS"])
def test_a_failures_audit_row_and_count_are_committed_although_the_page_shows_an_error(
        client, clock, victim, monkeypatch, atomic_requests):
    """Committed for real (no test transaction around it): the 400 page does not roll them back,
    not even where a deployment turns on ATOMIC_REQUESTS (Django commits a response that is not
    an exception)."""
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", atomic_requests)
    _, otp = enroll_totp(victim)
    sign_in(client, victim.email, PW)
    _challenge(client)
    assert client.post(VERIFY, {"code": _wrong(otp)}, REMOTE_ADDR=ATTACKER).status_code == 400
    assert not connection.in_atomic_block
    assert VerificationThrottle.objects.get(user=victim).consecutive_failures == 1
    [failed] = _events(victim, "mfa.")
    assert failed.action == "mfa.verification_failed" and failed.ip_address == ATTACKER


def test_a_mail_outage_at_the_fifth_failure_is_not_an_error_page(client, clock, victim, settings, run_on_commit):
    settings.EMAIL_BACKEND = f"{__name__}.BrokenEmailBackend"
    _, otp = enroll_totp(victim)
    sign_in(client, victim.email, PW)
    _challenge(client)
    for _ in range(throttle.NOTICE_AT):
        response = _post_wrong(client, otp, clock, run_on_commit)
    assert "That code is not valid" in response.content.decode()
    assert len(_events(victim, "mfa.verification_failed")) == throttle.NOTICE_AT
    assert VerificationThrottle.objects.get(user=victim).consecutive_failures == throttle.NOTICE_AT


# ---------------------------------------------------------------------------- hostile codes
@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "12 34 56\x00", "٣٣٣٣٣٣", "1" * 5000,
                                  "'; DROP TABLE accounts_auditevent; --"])
def test_a_malformed_code_is_audited_without_the_code_itself(client, clock, victim, code, run_on_commit):
    _, otp = enroll_totp(victim)
    sign_in(client, victim.email, PW)
    _challenge(client)
    with run_on_commit():
        response = client.post(VERIFY, {"code": code}, REMOTE_ADDR=ATTACKER)
    assert response.status_code == 400
    events = _events(victim, "mfa.")
    if events:  # the form may refuse it before verification (then nothing was tested)
        [failed] = events
        assert failed.after["reason"] in {"totp_code_format", "totp_invalid_code"}
    stored = json.dumps(list(AuditEvent.objects.values("object_label", "after")))
    assert code.strip() not in stored


def test_a_wrong_code_is_never_written_to_the_audit_log(client, clock, victim, run_on_commit):
    _, otp = enroll_totp(victim)
    sign_in(client, victim.email, PW)
    _challenge(client)
    near_miss = code_at(otp, -90)  # a real code of the victim's, three steps old: a secret
    with run_on_commit():
        assert client.post(VERIFY, {"code": near_miss}).status_code == 400
    assert near_miss not in json.dumps(list(AuditEvent.objects.values("object_label", "before", "after")))


# ------------------------------------------------------------------------------- WebAuthn
def _wa_assert(client, fake, kind=c.SECURITY_KEY, **changes):
    options = client.post(f"{WA_OPTIONS}?kind={kind}").json()["options"]
    credential = fake.assert_(options, **{"origin": ORIGIN, **changes})
    return _json(client, f"{WA_VERIFY}?kind={kind}", {"credential": credential}, REMOTE_ADDR=ATTACKER)


def test_a_security_key_assertion_from_another_origin_is_audited_as_failed_for_that_key(client, clock, victim):
    fake = FakeAuthenticator()
    key = enroll_webauthn(victim, fake, name="YubiKey")
    sign_in(client, victim.email, PW)
    _challenge(client)
    refused = _wa_assert(client, fake, origin="https://evil.example")
    assert refused.status_code == 400 and refused.json()["ok"] is False
    [failed] = _events(victim)
    assert failed.action == "mfa.verification_failed" and failed.ip_address == ATTACKER
    assert failed.after == {"kind": c.SECURITY_KEY, "authenticator_id": str(key.pk), "authenticator_name": "YubiKey",
                            "purpose": "challenge", "reason": "webauthn_origin"}
    assert VerificationThrottle.objects.get(user=victim).consecutive_failures == 1


def test_another_users_key_is_audited_as_failed_without_naming_that_key(client, clock, victim, make_user):
    enroll_webauthn(victim, FakeAuthenticator(), name="Victim's key")
    mallory = make_user()
    mallory_key = FakeAuthenticator()
    enroll_webauthn(mallory, mallory_key, name="Mallory's key")
    sign_in(client, victim.email, PW)
    _challenge(client)
    assert _wa_assert(client, mallory_key).json()["ok"] is False
    [failed] = _events(victim)
    assert failed.after == {"kind": c.SECURITY_KEY, "authenticator_id": None, "authenticator_name": None,
                            "purpose": "challenge", "reason": "webauthn_unknown_credential"}
    assert failed.object_type == "accounts.user" and failed.object_id == str(victim.pk)
    assert not _events(mallory)


@pytest.mark.parametrize("credential", ["garbage", {"id": 1}, {"id": "x" * 5000, "response": {}}, ["a"], None])
def test_a_malformed_assertion_is_audited_and_counted(client, clock, victim, credential):
    enroll_webauthn(victim, FakeAuthenticator())
    sign_in(client, victim.email, PW)
    _challenge(client)
    client.post(f"{WA_OPTIONS}?kind={c.SECURITY_KEY}")
    refused = _json(client, f"{WA_VERIFY}?kind={c.SECURITY_KEY}", {"credential": credential})
    assert refused.status_code == 400 and refused.json()["ok"] is False
    [failed] = _events(victim)
    assert failed.action == "mfa.verification_failed" and failed.after["authenticator_id"] is None
    assert failed.after["reason"].startswith("webauthn_")
    assert VerificationThrottle.objects.get(user=victim).consecutive_failures == 1


def test_a_valid_assertion_is_audited_as_verified(client, clock, victim):
    fake = FakeAuthenticator()
    key = enroll_webauthn(victim, fake, name="YubiKey")
    sign_in(client, victim.email, PW)
    _challenge(client)
    assert _wa_assert(client, fake).json()["ok"] is True
    [verified] = _events(victim)
    assert verified.action == "mfa.verified" and verified.object_id == str(key.pk)
    assert verified.after["purpose"] == "challenge" and verified.after["kind"] == c.SECURITY_KEY


# -------------------------------------------------------------------------------- step-up
def test_a_step_up_with_a_code_records_the_verification_and_the_window(client, clock, victim):
    authenticator, otp = enroll_totp(victim, name="Phone")
    client.force_login(victim)
    response = client.post(STEP_UP, {"code": code_at(otp)}, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302
    verified, opened = _events(victim)
    assert verified.action == "mfa.verified" and verified.after["purpose"] == "step_up"
    assert opened.action == "step_up.opened" and opened.ip_address == "198.51.100.7"
    assert opened.after == {"expires_at": (clock.now + step_up.WINDOW).isoformat(), "kind": c.TOTP,
                            "authenticator_id": str(authenticator.pk), "authenticator_name": "Phone"}


def test_a_wrong_code_at_the_step_up_is_audited_for_the_step_up_and_opens_nothing(client, clock, victim,
                                                                                   run_on_commit):
    _, otp = enroll_totp(victim)
    client.force_login(victim)
    with run_on_commit():
        assert client.post(STEP_UP, {"code": _wrong(otp)}).status_code == 200
    [failed] = _events(victim)
    assert failed.action == "mfa.verification_failed" and failed.after["purpose"] == "step_up"
    assert "mfagate.step_up" not in client.session


def test_a_step_up_with_a_security_key_names_the_key(client, clock, victim):
    fake = FakeAuthenticator()
    key = enroll_webauthn(victim, fake, name="YubiKey")
    client.force_login(victim)
    options = client.post(STEP_UP_OPTIONS).json()["options"]
    assert _json(client, STEP_UP_VERIFY, {"credential": fake.assert_(options, origin=ORIGIN)}).json()["ok"] is True
    verified, opened = _events(victim)
    assert verified.after["purpose"] == "step_up" and verified.object_id == str(key.pk)
    assert opened.action == "step_up.opened" and opened.after["authenticator_name"] == "YubiKey"


def test_the_step_up_purpose_is_the_one_the_audit_log_names():
    assert enrollment_views.STEP_UP_PURPOSE == verification.STEP_UP


# ------------------------------------------------------------------------------ concurrency
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="needs PostgreSQL row locks (run with DATABASE_URL=postgres://...; .ci/run does)")
def test_two_wrong_codes_racing_past_the_fourth_failure_send_one_notice(make_user, clock):
    """The throttle row is locked while a failure is counted: two failures at once are the 5th
    and the 6th, never two 5ths — one e-mail, two audit rows, one delay recorded per count."""
    user = make_user()
    _, otp = enroll_totp(user)
    lock_out(user, throttle.NOTICE_AT - 1)
    barrier = threading.Barrier(2)
    refused = []

    def attempt():
        barrier.wait()
        try:
            totp_verify(request=session_request(user, remote_addr=ATTACKER), user=user, code=_wrong(otp))
        except VerificationError as exc:
            refused.append(exc.reason)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(refused) == ["totp_invalid_code"] * 2
    assert VerificationThrottle.objects.get(user=user).consecutive_failures == throttle.NOTICE_AT + 1
    assert len(mail.outbox) == 1
    assert len(_events(user, "mfa.verification_failed")) == 2
    assert sorted(e.after["consecutive_failures"] for e in _events(user, "throttle.delayed")) == [5, 6]
