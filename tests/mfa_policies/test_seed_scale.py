"""manage.py seed_scale at small sizes: what it writes, what it refuses, and that it can run again."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command

from accounts.models import AuditEvent, User
from enrollment.models import Authenticator
from mfa_policies import constants as c
from mfa_policies.models import AaguidList, AppPolicy, Application, Membership, Organization, Policy

SMALL = ["--organizations", "4", "--users", "12", "--applications", "6", "--policies", "10",
         "--big-app-policies", "5", "--roles", "3", "--connections", "2", "--aaguid-lists", "2",
         "--audit-events", "7", "--security-keys", "3", "--totp-devices", "2", "--groups", "2",
         "--social-apps", "1", "--social-accounts", "2"]


def seed(*extra) -> str:
    out = StringIO()
    call_command("seed_scale", *SMALL, *extra, stdout=out)
    return out.getvalue()


def test_it_writes_the_sizes_asked_for_and_says_what_and_how_long(db):
    out = seed()
    assert Organization.objects.count() == 4 and User.objects.count() == 12
    assert Application.objects.count() == 6 and Policy.objects.count() == 10
    assert Membership.objects.count() == 12 and EmailAddress.objects.count() == 12
    assert Authenticator.objects.filter(kind=c.SECURITY_KEY).count() == 3
    assert Authenticator.objects.filter(kind=c.TOTP).count() == 2
    assert AaguidList.objects.count() == 2
    big = Application.objects.get(name="Big app")
    assert AppPolicy.objects.filter(application=big).count() == 5
    assert set(Policy.objects.filter(app_policies__application=big).values_list("organization", flat=True)) == {
        big.organization_id}, "the big application's policies are its organization's"
    assert re.search(r"^created 3 roles, 2 connections, 4 organizations, .* in \d+\.\d s$", out, re.M), out
    assert "prefix s1" in out


def test_it_records_one_audit_event_for_the_run(db):
    seed()
    event = AuditEvent.objects.get(action="scale.seed")
    assert event.object_id == "s1" and event.after["written"]["users"] == 12
    assert AuditEvent.objects.count() == 7 + 1  # the generated audit events, and the run's own


def test_a_second_run_uses_the_next_prefix(db):
    seed()
    out = seed()
    assert "prefix s2" in out
    assert Organization.objects.count() == 8 and User.objects.filter(email__endswith="@s2.scale.invalid").count() == 12


def test_a_used_or_malformed_prefix_is_refused(db):
    seed("--prefix", "bench")
    with pytest.raises(CommandError, match="already used"):
        seed("--prefix", "bench")
    with pytest.raises(CommandError, match="lowercase letter"):
        seed("--prefix", "Robert'); DROP TABLE")
    assert Organization.objects.count() == 4


def test_it_refuses_a_database_with_real_data_unless_forced(db, make_org, make_user):
    make_org("Acme Corp")
    make_user("alice@acme.test")
    with pytest.raises(CommandError, match=r"holds 1 organization \(Acme Corp\); 1 user \(alice@acme.test\)"):
        seed()
    assert Organization.objects.count() == 1 and User.objects.count() == 1
    seed("--force")
    assert Organization.objects.count() == 5


def test_demo_data_is_not_real_data(db, demo):
    seed()
    assert Organization.objects.count() == 5


def test_sizes_that_depend_on_others_are_cut_to_fit(db):
    out = StringIO()
    call_command("seed_scale", "--organizations", "2", "--users", "3", "--applications", "2", "--policies", "4",
                 "--aaguid-lists", "0", "--audit-events", "0", "--roles", "1", "--connections", "0", stdout=out)
    assert AppPolicy.objects.filter(application__name="Big app").count() == 4  # asked 2 000, 4 policies exist
    assert Authenticator.objects.count() == 3 + 3  # a security key and a TOTP device per user at most
    with pytest.raises(CommandError, match="must be 0 or more"):
        call_command("seed_scale", "--users", "-1", stdout=StringIO())
    with pytest.raises(CommandError, match="need at least one organization"):
        call_command("seed_scale", "--organizations", "0", stdout=StringIO())
