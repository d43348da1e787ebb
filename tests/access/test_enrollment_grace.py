"""The enrollment grace period through the Django client: “Set up later” on the enrollment page,
what it lets through, when it stops, and attacks on it (tampered, replayed, after it ran out, for
another application, for a policy that denies)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent
from mfa_policies import constants as c
from mfa_policies.models import EnrollmentGraceUse
from mfa_policies.services import configuration_save
from tests.support.authenticators import enroll_totp
from tests.support.signin import sign_in

PW = "correct-horse-battery"
ADD = "/AddMfaDevice"
LATER = "/mfa/enroll-later/"
APP_A = "/demo/a/"


@pytest.fixture
def grace_app(make_org, make_app, make_policy, make_user, make_member):
    """An organization enforcing MFA (authenticator application or security key) with a grace
    period, Application A on /demo/a/ and a member without authenticators."""

    def build(*, sign_ins=2, until=None, **policy_fields):
        org = make_org(name="Rollout", mfa_required_for_all_apps=True, enrollment_grace_sign_ins=sign_ins,
                       enrollment_grace_until=until)
        app = make_app(org, name="Application A", path_prefixes=[APP_A])
        policy = make_policy(org, apps=[app], **policy_fields)
        user = make_user("new@example.test")
        make_member(user, org)
        return org, app, policy, user

    return build


def _sent_to_enroll(client):
    response = client.get(APP_A)
    assert response.status_code == 302 and response["Location"] == f"{ADD}?next=%2Fdemo%2Fa%2F"
    return client.get(response["Location"])


def _forget_app_session(client):
    session = client.session
    session.pop("mfagate.apps", None)
    session.save()


def test_set_up_later_is_offered_with_what_remains_and_counts_down(client, clock, grace_app):
    org, _, _, user = grace_app(sign_ins=2)
    sign_in(client, user.email, PW)

    page = _sent_to_enroll(client)
    assert b"Set up later" in page.content and b"You can skip this 2 more times." in page.content
    response = client.post(LATER, {"next": APP_A})
    assert response.status_code == 302 and response["Location"] == APP_A
    opened = client.get(APP_A)
    assert opened.status_code == 200
    decision = opened.wsgi_request.access.decision
    assert decision.satisfied_by == "enrollment_skipped"
    assert decision.trail[-1] == ("[organization] new@example.test chose “Set up later” in organization "
                                  "“Rollout”’s grace period (1 sign-in left)")

    _forget_app_session(client)
    page = _sent_to_enroll(client)
    assert b"You can skip this 1 more time." in page.content
    assert client.post(LATER, {"next": APP_A})["Location"] == APP_A
    assert client.get(APP_A).status_code == 200

    _forget_app_session(client)
    page = _sent_to_enroll(client)  # the third time: enrollment is required
    assert b"Set up later" not in page.content
    forced = client.post(LATER, {"next": APP_A}, follow=True)  # posted anyway: refused
    assert "Enrollment can no longer be skipped here" in forced.content.decode()
    assert client.get(APP_A)["Location"].startswith(ADD)
    use = EnrollmentGraceUse.objects.get(user=user, organization=org)
    assert use.sign_ins_used == 2 and use.last_skipped_at == clock.now
    events = list(AuditEvent.objects.filter(action="enrollment.skipped").order_by("at", "id"))
    assert [e.after["sign_ins_used"] for e in events] == [1, 2]
    assert events[-1].after["remaining"] == {"sign_ins_left": 0, "until": None, "ended": True}
    assert events[0].after["remaining"]["sign_ins_left"] == 1


def test_a_grace_period_by_date_ends_on_its_date(client, clock, grace_app):
    until = clock.now + dt.timedelta(days=9)
    grace_app(sign_ins=None, until=until)
    sign_in(client, "new@example.test", PW)
    page = _sent_to_enroll(client)
    assert "You can skip this until 1 December 2026, 12:00 UTC." in page.content.decode()
    assert client.post(LATER, {"next": APP_A})["Location"] == APP_A
    assert client.get(APP_A).status_code == 200

    clock.advance(seconds=9 * 24 * 3600)
    _forget_app_session(client)
    page = _sent_to_enroll(client)
    assert b"Set up later" not in page.content


def test_a_replayed_set_up_later_is_refused(client, clock, grace_app):
    org, _, _, user = grace_app(sign_ins=5)
    sign_in(client, user.email, PW)
    _sent_to_enroll(client)
    assert client.post(LATER, {"next": APP_A})["Location"] == APP_A
    _forget_app_session(client)
    replay = client.post(LATER, {"next": APP_A}, follow=True)
    assert "There is nothing to skip right now" in replay.content.decode()
    assert replay.redirect_chain[-1][0].startswith(ADD)  # the application decided again: enroll
    assert EnrollmentGraceUse.objects.get(user=user, organization=org).sign_ins_used == 1


def test_set_up_later_without_being_sent_to_enroll_grants_nothing(client, clock, grace_app):
    org, _, _, user = grace_app(sign_ins=5)
    sign_in(client, user.email, PW)
    response = client.post(LATER, {"next": APP_A})
    assert response.status_code == 302
    assert client.get(APP_A).status_code == 302
    assert not EnrollmentGraceUse.objects.filter(user=user).exists()


def test_set_up_later_for_another_application_is_refused(client, clock, grace_app, make_org, make_app,
                                                          make_policy, make_member):
    org, _, _, user = grace_app(sign_ins=5)
    other_org = make_org(name="Strict", mfa_required_for_all_apps=True)  # no grace period
    other = make_app(other_org, name="Application B", path_prefixes=["/demo/b/"])
    make_policy(other_org, apps=[other])
    make_member(user, other_org)
    sign_in(client, user.email, PW)
    _sent_to_enroll(client)  # sent to enroll for Application A, which has grace
    tampered = client.post(LATER, {"next": "/demo/b/"})
    assert tampered.status_code == 302
    assert client.get("/demo/b/").status_code == 302  # Application B still needs enrollment
    assert not EnrollmentGraceUse.objects.filter(user=user).exists()


def test_set_up_later_after_the_grace_period_ran_out_is_refused(client, clock, grace_app):
    org, _, _, user = grace_app(sign_ins=1)
    sign_in(client, user.email, PW)
    _sent_to_enroll(client)
    org.enrollment_grace_sign_ins = None
    org.enrollment_grace_until = None
    configuration_save(acting_user=None, instance=org)  # the admin ends the grace period meanwhile
    response = client.post(LATER, {"next": APP_A}, follow=True)
    assert "Enrollment can no longer be skipped here" in response.content.decode()
    assert client.get(APP_A).status_code == 302
    assert not EnrollmentGraceUse.objects.filter(user=user).exists()


def test_grace_never_lets_a_denying_policy_through(client, clock, grace_app):
    org, app, policy, user = grace_app(sign_ins=5)
    sign_in(client, user.email, PW)
    _sent_to_enroll(client)
    policy.decision = c.DENY
    configuration_save(acting_user=None, instance=policy)
    client.post(LATER, {"next": APP_A})
    assert client.get(APP_A).status_code == 403
    assert not EnrollmentGraceUse.objects.filter(user=user).exists()


def test_a_user_who_enrolled_meanwhile_is_not_let_through_by_a_skip(client, clock, grace_app):
    org, _, _, user = grace_app(sign_ins=5)
    sign_in(client, user.email, PW)
    _sent_to_enroll(client)
    enroll_totp(user)
    client.post(LATER, {"next": APP_A})
    response = client.get(APP_A)
    assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/")
    assert not EnrollmentGraceUse.objects.filter(user=user).exists()


def test_set_up_later_needs_a_post_with_the_csrf_token(client, grace_app, clock):
    _, _, _, user = grace_app(sign_ins=5)
    sign_in(client, user.email, PW)
    _sent_to_enroll(client)
    browser = Client(enforce_csrf_checks=True)
    browser.cookies = client.cookies  # the same browser session, now checked for its CSRF token
    assert browser.get(LATER).status_code == 405
    assert browser.post(LATER, {"next": APP_A}).status_code == 403  # no CSRF token
    assert not EnrollmentGraceUse.objects.filter(user=user).exists()


@pytest.mark.parametrize("next_value", ["//evil.example/", "https://evil.example/demo/a/", "", "\njavascript:x"])
def test_hostile_next_values_are_refused_cleanly(client, clock, grace_app, next_value):
    _, _, _, user = grace_app(sign_ins=5)
    sign_in(client, user.email, PW)
    _sent_to_enroll(client)
    response = client.post(LATER, {"next": next_value})
    assert response.status_code == 302 and "evil" not in response["Location"]
    assert not EnrollmentGraceUse.objects.filter(user=user).exists()


def test_signed_out_set_up_later_sends_to_sign_in(client, db):
    response = client.post(LATER, {"next": APP_A})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_grace_read_costs_the_login_flow_no_query(client, clock, grace_app):
    """The skips are read inside the user's membership query (a subquery), so a login flow with a
    grace period by sign-ins costs what one without does."""
    _, _, _, user = grace_app(sign_ins=5)
    sign_in(client, user.email, PW)

    def count():
        client.get(APP_A)  # warm: the configuration input after a change, then the steady state
        client.get(APP_A)
        with CaptureQueriesContext(db_connection) as queries:
            client.get(APP_A)
        return len(queries.captured_queries)

    with_grace = count()
    org = user.memberships.get().organization
    org.enrollment_grace_sign_ins = None
    configuration_save(acting_user=None, instance=org)
    assert count() == with_grace


@pytest.mark.django_db(transaction=True)
def test_two_skips_racing_for_the_last_sign_in_only_one_wins(clock, grace_app):
    """On PostgreSQL the row lock decides; SQLite serializes writers. Either way exactly one skip
    of the last remaining sign-in is recorded."""
    from mfa_policies import resolution as r
    from mfa_policies.services import GraceUnavailable, enrollment_grace_skip

    org, _, _, user = grace_app(sign_ins=2)
    decision = r.Decision(outcome=c.ALLOW, mfa_required=True, allowed_authenticators=(c.TOTP,),
                          session_duration=None, satisfied_by=r.ENROLL, decided_by="organization", policy="P",
                          policy_id=None, app_session_duration=dt.timedelta(hours=1), trail=(),
                          grace=r.Grace(sign_ins_left=1))
    enrollment_grace_skip(acting_user=user, decision=decision, organization_id=org.pk, now=clock.now)  # 1 left
    results, barrier = [], threading.Barrier(2)

    def skip():
        try:
            barrier.wait()
            enrollment_grace_skip(acting_user=user, decision=decision, organization_id=org.pk, now=clock.now)
            results.append("ok")
        except GraceUnavailable:
            results.append("refused")
        except Exception as exc:  # SQLite: "database is locked" counts as not winning
            results.append(type(exc).__name__)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=skip) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1, results
    assert EnrollmentGraceUse.objects.get(user=user, organization=org).sign_ins_used == 2
    assert AuditEvent.objects.filter(action="enrollment.skipped").count() == 2
