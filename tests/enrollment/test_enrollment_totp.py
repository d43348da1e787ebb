"""Enrolling an authenticator application through the portal (Django test client)."""

from __future__ import annotations

import pyotp
import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import AuditEvent
from enrollment import totp
from enrollment.models import Authenticator
from enrollment.views import PENDING_TOTP_KEY
from mfa_policies import constants as c
from tests.support.authenticators import code_at, enroll_totp

pytestmark = pytest.mark.django_db
ADD_TOTP = "/account/mfa-devices/add/totp/"


def _pending_otp(client) -> pyotp.TOTP:
    return pyotp.TOTP(totp.base32_secret(client.session[PENDING_TOTP_KEY]))


def test_setup_page_shows_qr_key_in_groups_and_parameters(client, member, clock):
    client.force_login(member)
    page = client.get(ADD_TOTP)
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "SHA1" in html and "30 seconds" in html and "Digits: 6" in html
    groups = page.context["setup_key"]
    assert all(len(g) == 4 for g in groups[:-1])
    assert len(bytes.fromhex(client.session[PENDING_TOTP_KEY])) >= 20
    assert not Authenticator.objects.exists()


def test_each_setup_gets_a_fresh_secret(client, make_user, member, clock):
    client.force_login(member)
    client.get(ADD_TOTP)
    first = client.session[PENDING_TOTP_KEY]
    other = client.__class__()
    other.force_login(member)
    other.get(ADD_TOTP)
    assert other.session[PENDING_TOTP_KEY] != first


def test_a_proven_code_enrolls_audits_and_emails(client, member, clock, django_capture_on_commit_callbacks):
    client.force_login(member)
    client.get(ADD_TOTP)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ADD_TOTP, {"code": code_at(_pending_otp(client)), "name": "Work phone"})
    assert response.status_code == 302 and response["Location"] == reverse("enrollment:devices")
    authenticator = Authenticator.objects.get(user=member)
    assert authenticator.kind == c.TOTP and authenticator.name == "Work phone"
    event = AuditEvent.objects.get(action="authenticator.added")
    assert event.actor == member and event.ip_address == "127.0.0.1" and event.object_id == str(authenticator.pk)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [member.email]
    assert PENDING_TOTP_KEY not in client.session


def test_a_wrong_code_is_shown_next_to_the_field_and_nothing_is_stored(client, member, clock):
    client.force_login(member)
    client.get(ADD_TOTP)
    wrong = "000000" if code_at(_pending_otp(client)) != "000000" else "111111"
    response = client.post(ADD_TOTP, {"code": wrong})
    assert response.status_code == 200
    assert "That code is not valid" in response.context["form"].errors["code"][0]
    assert not Authenticator.objects.exists() and not AuditEvent.objects.exists() and not mail.outbox


@pytest.mark.parametrize("code", ["", "abc", "12345", "1234567", "<script>"])
def test_malformed_codes_are_form_errors(client, member, clock, code):
    client.force_login(member)
    client.get(ADD_TOTP)
    response = client.post(ADD_TOTP, {"code": code})
    assert response.status_code == 200 and response.context["form"].errors["code"]
    assert not Authenticator.objects.exists()


def test_second_totp_is_refused_until_the_first_is_deleted(client, member, clock):
    from enrollment import flows
    from enrollment.messages import EnrollmentError
    from tests.support.authenticators import step_up_request

    enroll_totp(member)
    request = step_up_request(member)
    key = totp.new_secret()
    with pytest.raises(EnrollmentError) as refused:
        flows.totp_add(request=request, acting_user=member, key_hex=key,
                       code=pyotp.TOTP(totp.base32_secret(key)).at(clock.now.timestamp()))
    assert refused.value.code == "totp_exists"
    assert "delete" in refused.value.message.lower() or "remove" in refused.value.message.lower()
    assert Authenticator.objects.filter(user=member).count() == 1


def test_the_constraint_refuses_a_racing_second_totp_with_the_same_message(member, clock):
    """The existence check passed (a concurrent request), the insert hits the constraint."""
    from django.db import IntegrityError, transaction

    from enrollment.messages import MESSAGES

    enroll_totp(member)
    device = totp.create_device(user=member, key_hex=totp.new_secret(), accepted_t=0, name="x")
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            Authenticator.objects.create(user=member, kind=c.TOTP, name="x", created_at=clock.now, totp_device=device)
    assert "remove the existing one" in MESSAGES["totp_exists"]


def test_the_enrollment_code_cannot_be_used_again_for_verification(client, member, clock):
    from enrollment.verification import VerificationError, totp_verify
    from tests.support.authenticators import session_request

    client.force_login(member)
    client.get(ADD_TOTP)
    code = code_at(_pending_otp(client))
    client.post(ADD_TOTP, {"code": code})
    with pytest.raises(VerificationError) as refused:
        totp_verify(request=session_request(member), user=member, code=code)
    assert refused.value.code == "replayed"


def test_totp_not_offered_by_any_organization_is_refused(client, make_user, make_org, make_member, clock):
    user = make_user()
    make_member(user, make_org(allowed_authenticators=[c.SECURITY_KEY]))
    client.force_login(user)
    response = client.get(ADD_TOTP)
    assert response.status_code == 302
    assert not Authenticator.objects.exists()


def test_next_brings_the_user_back_after_enrolling(client, member, clock):
    client.force_login(member)
    client.get(ADD_TOTP + "?next=/demo/a/")
    response = client.post(ADD_TOTP, {"code": code_at(_pending_otp(client)), "next": "/demo/a/"})
    assert response["Location"] == "/demo/a/"


@pytest.mark.parametrize("evil", ["//evil.com", "http:\\\\evil.com", "\njavascript:x", "http://testserver\\@evil.com",
                                  "http:999999999", "https://evil.com/", "javascript:alert(1)"])
def test_next_never_leaves_the_site(client, member, clock, evil):
    client.force_login(member)
    client.get(ADD_TOTP)
    response = client.post(ADD_TOTP, {"code": code_at(_pending_otp(client)), "next": evil})
    assert response.status_code == 302 and response["Location"] == reverse("enrollment:devices")
