"""The add and remove flows check the step-up window themselves (seed 002 "MFA verification for
authenticator changes"): a caller that skips the page's check — a new view, a script, a shell —
is refused by the flow, and nothing is written."""

from __future__ import annotations

import pyotp
import pytest

from accounts.models import AuditEvent
from enrollment import flows, step_up, totp
from enrollment.messages import EnrollmentError
from enrollment.models import Authenticator
from tests.support.authenticators import enroll_totp, session_request, step_up_request


def _totp_args(clock):
    key = totp.new_secret()
    return {"key_hex": key, "code": pyotp.TOTP(totp.base32_secret(key)).at(clock.now.timestamp())}


def _state(user):
    return (sorted(Authenticator.objects.filter(user=user).values_list("pk", flat=True)), AuditEvent.objects.count())


def test_adding_without_a_window_is_refused_by_the_flow_itself(member, clock):
    enroll_totp(member)
    before = _state(member)
    with pytest.raises(EnrollmentError) as refused:
        flows.webauthn_add(request=session_request(member), acting_user=member, credential={"id": "x"})
    assert refused.value.code == "step_up_required"
    assert _state(member) == before


def test_removing_without_a_window_is_refused_by_the_flow_itself(member, clock):
    authenticator, _ = enroll_totp(member)
    before = _state(member)
    with pytest.raises(EnrollmentError) as refused:
        flows.authenticator_remove(request=session_request(member), acting_user=member,
                                   authenticator_id=authenticator.pk)
    assert refused.value.code == "step_up_required"
    assert _state(member) == before


def test_a_window_opened_by_another_browser_session_does_not_count(member, clock):
    authenticator, _ = enroll_totp(member)
    opened = step_up_request(member)
    elsewhere = session_request(member)  # same user, another browser session
    assert step_up.is_open(opened) and not step_up.is_open(elsewhere)
    with pytest.raises(EnrollmentError):
        flows.authenticator_remove(request=elsewhere, acting_user=member, authenticator_id=authenticator.pk)
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()


def test_a_window_of_another_user_does_not_count(member, make_user, make_member, member_org, clock):
    authenticator, _ = enroll_totp(member)
    other = make_user("other@example.test")
    make_member(other, member_org)
    enroll_totp(other)
    request = step_up_request(other)  # the other user's open window, used for member
    with pytest.raises(EnrollmentError) as refused:
        flows.authenticator_remove(request=request, acting_user=member, authenticator_id=authenticator.pk)
    assert refused.value.code == "step_up_required"
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()


def test_an_expired_window_is_refused(member, clock):
    authenticator, _ = enroll_totp(member)
    request = step_up_request(member)
    clock.advance(minutes=10)
    with pytest.raises(EnrollmentError):
        flows.authenticator_remove(request=request, acting_user=member, authenticator_id=authenticator.pk)
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()


def test_with_a_window_the_flow_removes(member, clock, run_on_commit):
    authenticator, _ = enroll_totp(member)
    with run_on_commit():
        removed = flows.authenticator_remove(request=step_up_request(member), acting_user=member,
                                             authenticator_id=authenticator.pk)
    assert removed["name"] == authenticator.name
    assert not Authenticator.objects.filter(pk=authenticator.pk).exists()
    assert AuditEvent.objects.filter(action="authenticator.removed").count() == 1


def test_the_first_authenticator_needs_no_window(member, clock):
    """Nothing to verify with yet: the first enrollment is allowed without a step-up."""
    added = flows.totp_add(request=session_request(member), acting_user=member, **_totp_args(clock))
    assert added.user == member
