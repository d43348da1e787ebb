"""Recovery codes, the service (enrollment/recovery.py): generating, the stored form, using, and
every way of getting it wrong (issue 11 items 1 and 5; NIST SP 800-63B-4 saved recovery codes)."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import AuditEvent
from enrollment import recovery, step_up, throttle
from enrollment.messages import MESSAGES, EnrollmentError
from enrollment.models import RecoveryCode, VerificationThrottle
from enrollment.verification import VerificationError, totp_verify
from tests.support.authenticators import enroll_totp, lock_out, session_request, step_up_request

pytestmark = pytest.mark.django_db
SHAPE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


@pytest.fixture
def enrolled(member):
    enroll_totp(member)
    return member


def _generate(user):
    return recovery.generate(request=step_up_request(user), acting_user=user)


def _use(user, code, **kwargs):
    return recovery.use(request=session_request(user), user=user, code=code, **kwargs)


def _refused(user, code, reason, **kwargs):
    with pytest.raises(EnrollmentError) as refused:
        _use(user, code, **kwargs)
    assert refused.value.code == reason, refused.value.code
    assert refused.value.message == MESSAGES[reason].format(**refused.value.params)
    return refused.value


# ------------------------------------------------------------------------------ generating
def test_ten_codes_of_80_bits_each_grouped_in_fours(enrolled, clock):
    codes = _generate(enrolled)
    assert len(codes) == recovery.COUNT == 10 and len(set(codes)) == 10
    assert all(SHAPE.match(code) for code in codes), codes
    assert len(recovery.ALPHABET) == 32 and recovery.LENGTH * 5 == 80  # ≥ 64 bits (NIST)
    assert recovery.remaining(enrolled) == 10


def test_only_salted_digests_are_stored_never_the_codes(enrolled, clock):
    codes = _generate(enrolled)
    rows = list(RecoveryCode.objects.filter(user=enrolled).values())
    assert len(rows) == 10
    stored = " ".join(str(value) for row in rows for value in row.values())
    for code in codes:
        assert code not in stored and code.replace("-", "") not in stored
    assert len({row["salt"] for row in rows}) == 10, "a salt per code"
    assert all(len(row["salt"]) == 32 and len(row["digest"]) == 64 for row in rows)


def test_generating_is_audited_and_emailed(enrolled, clock, run_on_commit):
    with run_on_commit():
        _generate(enrolled)
    event = AuditEvent.objects.get(action="recovery_codes.generated")
    assert event.actor == enrolled and event.subject_user == enrolled
    assert event.before is None and event.after == {"codes": 10, "remaining": 10}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [enrolled.email]
    assert mail.outbox[0].subject == "New recovery codes were generated for your mfagate account"
    assert "10 new recovery codes were generated" in mail.outbox[0].body
    assert "no longer work" not in mail.outbox[0].body, "the first set replaces nothing"


def test_regenerating_replaces_the_old_codes_in_one_go(enrolled, clock, run_on_commit):
    old = _generate(enrolled)
    _use(enrolled, old[0])
    with run_on_commit():
        new = _generate(enrolled)
    assert not set(old) & set(new)
    assert RecoveryCode.objects.filter(user=enrolled).count() == 10 and recovery.remaining(enrolled) == 10
    event = AuditEvent.objects.filter(action="recovery_codes.generated").latest("id")
    assert event.before == {"codes": 10, "remaining": 9}
    assert "the codes you had before no longer work" in mail.outbox[-1].body
    _refused(enrolled, old[1], "recovery_code_invalid")
    assert _use(enrolled, new[0]) == 9


def test_generating_needs_the_step_up_window(enrolled, clock):
    with pytest.raises(EnrollmentError) as refused:
        recovery.generate(request=session_request(enrolled), acting_user=enrolled)
    assert refused.value.code == "step_up_required"
    expired = step_up_request(enrolled)
    clock.advance(minutes=10, seconds=1)
    with pytest.raises(EnrollmentError) as refused:
        recovery.generate(request=expired, acting_user=enrolled)
    assert refused.value.code == "step_up_required"
    assert not RecoveryCode.objects.exists() and not AuditEvent.objects.filter(action__startswith="recovery").exists()


def test_another_users_window_does_not_count(enrolled, make_user, make_member, member_org, clock):
    other = make_user()
    make_member(other, member_org)
    enroll_totp(other)
    request = step_up_request(other)
    with pytest.raises(EnrollmentError) as refused:
        recovery.generate(request=request, acting_user=enrolled)
    assert refused.value.code == "step_up_required" and not RecoveryCode.objects.exists()


def test_generating_needs_an_authenticator(member, clock):
    with pytest.raises(EnrollmentError) as refused:
        recovery.generate(request=step_up_request(member), acting_user=member)
    assert refused.value.code == "recovery_needs_authenticator"
    assert not RecoveryCode.objects.exists()


def test_an_organization_that_turned_codes_off_forbids_generating(enrolled, make_org, make_member, clock):
    make_member(enrolled, make_org(name="Strict", recovery_codes_enabled=False))
    with pytest.raises(EnrollmentError) as refused:
        _generate(enrolled)
    assert refused.value.code == "recovery_codes_off"
    assert "your organization “Strict”" in refused.value.message
    assert not RecoveryCode.objects.exists()


# ---------------------------------------------------------------------------------- using
def test_a_code_works_once_opens_the_step_up_window_and_says_how_many_are_left(enrolled, clock, run_on_commit):
    code = _generate(enrolled)[3]
    mail.outbox.clear()
    request = session_request(enrolled)
    key_before = request.session.session_key
    with run_on_commit():
        left = recovery.use(request=request, user=enrolled, code=code)
    assert left == 9 == recovery.remaining(enrolled)
    assert step_up.is_open(request) and request.session.session_key != key_before
    assert RecoveryCode.objects.filter(user=enrolled, used_at=clock.now).count() == 1
    event = AuditEvent.objects.get(action="recovery_code.used")
    assert event.actor == enrolled and event.after == {"remaining": 9} and event.ip_address == "127.0.0.1"
    assert [m.subject for m in mail.outbox] == ["A recovery code was used to sign in to your mfagate account"]
    assert "A recovery code was used to sign in to your mfagate account; 9 left." in mail.outbox[0].body
    _refused(enrolled, code, "recovery_code_used")


def test_a_code_records_no_mfa_session(enrolled, clock):
    from mfa_policies.access import session_state

    request = session_request(enrolled)
    recovery.use(request=request, user=enrolled, code=_generate(enrolled)[0])
    assert session_state.mfa_sessions(request, user_generation=enrolled.mfa_generation) == ()


def test_the_last_code_says_none_are_left(enrolled, clock, run_on_commit):
    codes = _generate(enrolled)
    for code in codes[:-1]:
        _use(enrolled, code)
    mail.outbox.clear()
    with run_on_commit():
        assert _use(enrolled, codes[-1]) == 0
    assert "; 0 left." in mail.outbox[0].body and "You have no recovery codes left" in mail.outbox[0].body


@pytest.mark.parametrize("typed", [
    pytest.param(lambda code: code.lower(), id="lower case"),
    pytest.param(lambda code: code.replace("-", ""), id="no dashes"),
    pytest.param(lambda code: code.replace("-", " "), id="spaces"),
    pytest.param(lambda code: f"  {code.lower().replace('-', ' - ')}\t", id="spaces around dashes"),
])
def test_case_spaces_and_dashes_do_not_matter(enrolled, clock, typed):
    code = _generate(enrolled)[0]
    assert _use(enrolled, typed(code)) == 9


def test_look_alike_letters_are_read_as_the_digits(enrolled, clock, monkeypatch):
    monkeypatch.setattr(recovery, "_new_code", iter(["0011" * 4] + ["ABCD" * 4] * 9).__next__)
    _generate(enrolled)
    assert _use(enrolled, "OoIl-0OLi-o01I-0011") == 9


@pytest.mark.parametrize("hostile", [
    "", "   ", "ABCD-EFGH", "ABCD-EFGH-JKMN-PQRS-TVWX", "A" * 17, "A" * 100_000, "\x00" * 16,
    "ABCD-EFGH-JKMN-PQR\x00", "ÀBCD-EFGH-JKMN-PQRS", "ＡＢＣＤ-ＥＦＧＨ-ＪＫＭＮ-ＰＱＲＳ", "ıııı-ıııı-ıııı-ıııı",
    "ABCD_EFGH_JKMN_PQRS", "ABCD-EFGH-JKMN-PQR!", "'; DROP TABLE enrollment_recoverycode; --", None, 1234, ["A" * 16],
])
def test_malformed_input_is_refused_counted_and_audited(enrolled, clock, hostile):
    _generate(enrolled)
    _refused(enrolled, hostile, "recovery_code_format")
    assert throttle.state_of(enrolled).consecutive_failures == 1
    event = AuditEvent.objects.get(action="recovery_code.rejected")
    assert event.after == {"reason": "recovery_code_format", "consecutive_failures": 1}
    assert recovery.remaining(enrolled) == 10


def test_a_wrong_code_is_refused_counted_and_audited(enrolled, clock):
    codes = _generate(enrolled)
    wrong = next(c for c in ("ABCD-EFGH-JKMN-PQRS", "ZZZZ-ZZZZ-ZZZZ-ZZZZ") if c not in codes)
    _refused(enrolled, wrong, "recovery_code_invalid")
    assert throttle.state_of(enrolled).consecutive_failures == 1
    assert AuditEvent.objects.get(action="recovery_code.rejected").after["reason"] == "recovery_code_invalid"
    assert recovery.remaining(enrolled) == 10


def test_another_users_code_is_not_yours(enrolled, make_user, make_member, member_org, clock):
    other = make_user()
    make_member(other, member_org)
    enroll_totp(other)
    theirs = _generate(other)[0]
    _generate(enrolled)
    _refused(enrolled, theirs, "recovery_code_invalid")
    assert recovery.remaining(other) == 10 and recovery.remaining(enrolled) == 10
    assert throttle.state_of(other).is_clear, "the owner's throttle is untouched"


def test_a_user_without_codes_is_refused_as_wrong(enrolled, clock):
    _refused(enrolled, "ABCD-EFGH-JKMN-PQRS", "recovery_code_invalid")


def test_codes_of_an_organization_that_turned_them_off_cannot_be_used(enrolled, make_org, make_member, clock):
    code = _generate(enrolled)[0]
    make_member(enrolled, make_org(name="Strict", recovery_codes_enabled=False))
    _refused(enrolled, code, "recovery_codes_off")
    assert recovery.remaining(enrolled) == 10, "not burned"
    assert throttle.state_of(enrolled).is_clear, "not a guess: nothing was compared"


def test_at_an_application_its_organization_must_allow_codes_too(enrolled, make_org, clock):
    code = _generate(enrolled)[0]
    elsewhere = make_org(name="Partner", recovery_codes_enabled=False)
    assert not recovery.availability(enrolled, application_organization_id=elsewhere.pk).allowed
    assert recovery.availability(enrolled).allowed
    _refused(enrolled, code, "recovery_codes_off", application_organization_id=elsewhere.pk)
    assert _use(enrolled, code) == 9


def test_the_rule_names_every_organization_that_said_no(member, make_org, make_member, clock):
    make_member(member, make_org(name="Beta", recovery_codes_enabled=False))
    make_member(member, make_org(name="Alpha", recovery_codes_enabled=False))
    availability = recovery.availability(member)
    assert availability.turned_off_by == ("Alpha", "Beta")
    assert "your organizations “Alpha” and “Beta”" in availability.explanation


def test_a_user_of_no_organization_may_use_codes(make_user, clock):
    assert recovery.availability(make_user()).allowed


# ------------------------------------------------------------------------------- throttle
def test_wrong_codes_count_in_the_account_throttle_with_totp(enrolled, clock):
    codes = _generate(enrolled)
    for _ in range(throttle.FREE_ATTEMPTS):
        _refused(enrolled, "ZZZZ-ZZZZ-ZZZZ-ZZZZ" if "ZZZZ-ZZZZ-ZZZZ-ZZZZ" not in codes else "YYYY-YYYY-YYYY-YYYY",
                 "recovery_code_invalid")
    # The sixth attempt waits, whatever the authenticator: the right code and a TOTP code alike.
    _refused(enrolled, codes[0], "throttled")
    with pytest.raises(VerificationError) as totp_refused:
        totp_verify(request=session_request(enrolled), user=enrolled, code="000000")
    assert totp_refused.value.code == "throttled"
    assert recovery.remaining(enrolled) == 10, "a refused attempt burns nothing"
    clock.advance(seconds=2)
    assert _use(enrolled, codes[0]) == 9
    assert throttle.state_of(enrolled).is_clear, "a right code resets the counter"


def test_a_locked_account_cannot_use_codes_until_the_cool_down(enrolled, clock):
    code = _generate(enrolled)[0]
    lock_out(enrolled)
    refused = _refused(enrolled, code, "locked")
    assert "locked until" in refused.message
    assert recovery.remaining(enrolled) == 10
    clock.advance(hours=1, seconds=1)
    assert _use(enrolled, code) == 9
    assert VerificationThrottle.objects.get(user=enrolled).consecutive_failures == 0


def test_a_reused_code_counts_as_a_failure(enrolled, clock):
    code = _generate(enrolled)[0]
    _use(enrolled, code)
    _refused(enrolled, code, "recovery_code_used")
    assert throttle.state_of(enrolled).consecutive_failures == 1
    assert AuditEvent.objects.get(action="recovery_code.rejected").after["reason"] == "recovery_code_used"


# ------------------------------------------------------------------- they die with the last device
def test_removing_the_last_device_revokes_the_codes_so_they_cannot_return_with_a_new_one(enrolled, clock):
    from enrollment import flows

    codes = _generate(enrolled)
    (device,) = enrolled.authenticators.all()
    flows.authenticator_remove(request=step_up_request(enrolled), acting_user=enrolled, authenticator_id=device.pk)
    assert not RecoveryCode.objects.filter(user=enrolled).exists()
    event = AuditEvent.objects.get(action="recovery_codes.revoked")
    assert event.subject_user == enrolled and event.before == {"codes": 10, "remaining": 10}
    enroll_totp(enrolled, name="New phone")  # a new device does not bring the old codes back
    _refused(enrolled, codes[0], "recovery_code_invalid")


def test_removing_one_of_two_devices_keeps_the_codes(enrolled, clock):
    from enrollment import flows
    from tests.support.authenticators import enroll_webauthn
    from tests.support.webauthn_fakes import FakeAuthenticator

    enroll_webauthn(enrolled, FakeAuthenticator())
    _generate(enrolled)
    phone = enrolled.authenticators.get(kind="totp")
    flows.authenticator_remove(request=step_up_request(enrolled), acting_user=enrolled, authenticator_id=phone.pk)
    assert recovery.remaining(enrolled) == 10 and not AuditEvent.objects.filter(action="recovery_codes.revoked").exists()


def test_an_administrators_reset_revokes_the_codes_too(enrolled, clock):
    from enrollment import flows

    _generate(enrolled)
    flows.mfa_reset_by_command(actor=flows.CommandActor(command="mfa_reset_user"), user=enrolled)
    assert not RecoveryCode.objects.filter(user=enrolled).exists()
    assert AuditEvent.objects.get(action="recovery_codes.revoked").actor_label.startswith("system (manage.py mfa_reset_user")
