"""The organization's grace period and recovery switch as mfagate extension fields of the API's
organization object: kept when omitted, null clears the grace period, hostile values get the error
envelope and write nothing, and the change is audited."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import AuditEvent
from mfa_policies.models import Organization

FUTURE = "2027-01-31T18:00:00Z"


def _put(api, **extension):
    status, current = api.get("access/organizations")
    body = {k: v for k, v in current["result"].items() if k not in ("account_id", "created_at", "updated_at")}
    body.update(extension)
    return api.put("access/organizations", body)


def test_get_shows_the_extension_fields(api, api_org):
    status, payload = api.get("access/organizations")
    assert status == 200
    result = payload["result"]
    assert result["mfa_recovery_codes_enabled"] is True
    assert result["mfa_enrollment_grace_until"] is None and result["mfa_enrollment_grace_sign_ins"] is None


def test_set_the_grace_period_and_see_it_audited(api, api_org, api_admin):
    status, payload = _put(api, mfa_enrollment_grace_until=FUTURE, mfa_enrollment_grace_sign_ins=3,
                           mfa_recovery_codes_enabled=False)
    assert status == 200, payload
    result = payload["result"]
    assert result["mfa_enrollment_grace_until"] == "2027-01-31T18:00:00+00:00"
    assert result["mfa_enrollment_grace_sign_ins"] == 3 and result["mfa_recovery_codes_enabled"] is False
    api_org.refresh_from_db()
    assert api_org.enrollment_grace_until == dt.datetime(2027, 1, 31, 18, tzinfo=dt.timezone.utc)
    event = AuditEvent.objects.filter(action="organization.update").latest("at")
    assert event.actor == api_admin
    assert event.before["enrollment_grace_sign_ins"] is None and event.after["enrollment_grace_sign_ins"] == 3
    assert event.after["enrollment_grace_until"].startswith("2027-01-31 18:00:00")
    assert event.before["recovery_codes_enabled"] is True and event.after["recovery_codes_enabled"] is False


def test_omitted_extension_fields_are_kept_and_null_clears_the_grace_period(api, api_org):
    _put(api, mfa_enrollment_grace_until=FUTURE, mfa_enrollment_grace_sign_ins=3, mfa_recovery_codes_enabled=False)
    status, payload = api.put("access/organizations", {"name": "Your Team Name"})  # a Cloudflare-only client
    assert status == 200, payload
    org = Organization.objects.get(pk=api_org.pk)
    assert org.enrollment_grace_sign_ins == 3 and org.enrollment_grace_until is not None
    assert org.recovery_codes_enabled is False
    status, payload = _put(api, mfa_enrollment_grace_until=None, mfa_enrollment_grace_sign_ins=None)
    assert status == 200, payload
    org.refresh_from_db()
    assert org.enrollment_grace_until is None and org.enrollment_grace_sign_ins is None


def test_a_stored_date_that_has_passed_survives_a_round_trip(api, api_org, clock):
    _put(api, mfa_enrollment_grace_until=FUTURE)
    clock.set(dt.datetime(2027, 3, 1, tzinfo=dt.timezone.utc))  # the grace period has ended
    status, payload = _put(api)  # GET → PUT with the same (past) date
    assert status == 200, payload


@pytest.mark.parametrize("field, value, words", [
    ("mfa_enrollment_grace_sign_ins", 0, "enter a whole number of sign-ins from 1 to 100"),
    ("mfa_enrollment_grace_sign_ins", 101, "enter a whole number of sign-ins from 1 to 100"),
    ("mfa_enrollment_grace_sign_ins", -1, "enter a whole number of sign-ins from 1 to 100"),
    ("mfa_enrollment_grace_sign_ins", 10**30, "enter a whole number of sign-ins from 1 to 100"),
    ("mfa_enrollment_grace_sign_ins", "3", "must be a whole number"),
    ("mfa_enrollment_grace_sign_ins", True, "must be a whole number"),
    ("mfa_enrollment_grace_sign_ins", 2.5, "must be a whole number"),
    ("mfa_enrollment_grace_until", "2020-01-01T00:00:00Z", "choose a date and time in the future"),
    ("mfa_enrollment_grace_until", "tomorrow", "is not a date and time"),
    ("mfa_enrollment_grace_until", "2027-13-45T99:00:00Z", "is not a date and time"),
    ("mfa_enrollment_grace_until", "9" * 500, "at most 64 characters"),
    ("mfa_enrollment_grace_until", 1735689600, "must be a string"),
    ("mfa_recovery_codes_enabled", "yes", "must be true or false"),
])
def test_hostile_values_get_the_error_envelope_and_write_nothing(api, api_org, field, value, words):
    before = AuditEvent.objects.count()
    status, payload = _put(api, **{field: value})
    assert status == 400, payload
    assert payload["success"] is False and payload["result"] is None
    text = " ".join(e["message"] for e in payload["errors"])
    assert field in text and words in text, text
    assert len(payload["errors"]) == 1, payload["errors"]  # one message per problem
    assert AuditEvent.objects.count() == before
    org = Organization.objects.get(pk=api_org.pk)
    assert org.enrollment_grace_sign_ins is None and org.enrollment_grace_until is None
    assert org.recovery_codes_enabled is True
