"""Enforcement rules through the Django client: AMR matching, exemptions, deny / bypass,
``auth_method``, revocation, ``next``, throttling, the hot path and every URL (SECURITY 16–22)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from mfa_policies import constants as c
from mfa_policies.services import configuration_save
from tests.support.authenticators import code_at, enroll_totp, enroll_webauthn
from tests.support.signin import sign_in, signin_form, simulate_oidc_sign_in
from tests.support.webauthn_fakes import FakeAuthenticator

VERIFY = "/mfa/verify/"
PW = "correct-horse-battery"


@pytest.fixture
def make_mfa_app(make_org, make_app, make_policy, make_user, make_member):
    """Makes an org enforcing MFA (totp, security key), one app on /demo/a/ under one policy, and a member;
    returns (org, app, policy, user)."""

    def build(org_fields=None, app_fields=None, policy_fields=None, email="u@example.test"):
        org = make_org(**{"mfa_required_for_all_apps": True, **(org_fields or {})})
        app = make_app(org, **{"path_prefixes": ["/demo/a/"], **(app_fields or {})})
        policy = make_policy(org, apps=[app], **(policy_fields or {}))
        user = make_user(email)
        make_member(user, org)
        return org, app, policy, user

    return build


def _verify(client, clock, otp):
    clock.advance(seconds=31)
    return client.post(VERIFY, {"code": code_at(otp)})


# ----------------------------------------------------------------------------- AMR matching
@pytest.mark.parametrize("amr,passes", [
    (["pwd", "otp"], True),      # otp → totp, allowed
    (["pwd", "hwk"], True),      # hwk → security key, allowed
    (["pwd"], False),            # no second factor
    (["mfa"], False),            # SECURITY row 21: mfa alone is not a method
    (["pop", "fido"], False),    # vendor / undefined values are ignored
    (["HWK"], False),            # values are case-sensitive
    ("hwk", False),              # a string instead of a list is rejected
])
def test_amr_matching(client, clock, make_mfa_app, amr, passes):
    org, app, _, user = make_mfa_app({"amr_matching_enabled": True, "amr_session_duration": "1h"})
    enroll_totp(user)
    simulate_oidc_sign_in(client, user, connection="corp", amr=amr, auth_time=clock.now.timestamp() - 60)
    response = client.get("/demo/a/")
    if passes:
        assert response.status_code == 200
        assert response.wsgi_request.access.decision.satisfied_by == "amr_match"
        assert response.wsgi_request.access.claims["amr"] == list(amr)
    else:
        assert response["Location"].startswith(VERIFY)


def test_amr_older_than_its_duration_prompts(client, clock, make_mfa_app):
    org, app, _, user = make_mfa_app({"amr_matching_enabled": True, "amr_session_duration": "1h"})
    enroll_totp(user)
    simulate_oidc_sign_in(client, user, connection="corp", amr=["otp"], auth_time=clock.now.timestamp() - 3601)
    assert client.get("/demo/a/")["Location"].startswith(VERIFY)


def test_amr_is_ignored_when_matching_is_off(client, clock, make_mfa_app):
    org, app, _, user = make_mfa_app({"amr_matching_enabled": False})
    enroll_totp(user)
    simulate_oidc_sign_in(client, user, connection="corp", amr=["hwk"])
    assert client.get("/demo/a/")["Location"].startswith(VERIFY)


def test_amr_duration_0m_counts_only_for_the_sign_ins_own_login_flow(client, clock, make_mfa_app, make_app,
                                                                      make_policy):
    org, app, _, user = make_mfa_app({"amr_matching_enabled": True, "amr_session_duration": "0m"})
    other = make_app(org, path_prefixes=["/demo/b/"])
    make_policy(org, apps=[other])
    enroll_totp(user)
    simulate_oidc_sign_in(client, user, connection="corp", amr=["pwd", "otp"])
    assert client.get("/demo/a/").status_code == 200       # the sign-in's own flow
    assert client.get("/demo/b/")["Location"].startswith(VERIFY)  # a later flow


# ------------------------------------------------------------------------------ exemptions
def test_exempt_connection_passes_without_mfa(client, clock, demo):
    from accounts.models import User

    user = User.objects.get(email="other@demo.test")
    enroll_totp(user)
    simulate_oidc_sign_in(client, user, connection="okta", amr=["pwd"])
    response = client.get("/demo/a/")
    assert response.status_code == 200
    assert any("exempt connection" in step for step in response.wsgi_request.access.decision.trail)


def test_only_exempt_roles_pass_and_mixed_roles_get_mfa(client, clock, demo):
    from accounts.models import User

    enroll_totp(User.objects.get(email="admin@demo.test"))
    enroll_totp(User.objects.get(email="mixed@demo.test"))
    sign_in(client, "admin@demo.test")
    assert client.get("/demo/a/").status_code == 200
    client.logout()
    sign_in(client, "mixed@demo.test")
    assert client.get("/demo/a/")["Location"].startswith(VERIFY)


# --------------------------------------------------------------------------- deny / bypass
def test_deny_policy_shows_a_403_naming_the_rule(client, clock, make_mfa_app):
    org, app, policy, user = make_mfa_app(policy_fields={"decision": c.DENY, "name": "Contractors out"})
    sign_in(client, user.email, PW)
    response = client.get("/demo/a/")
    assert response.status_code == 403
    assert "Contractors out" in response.content.decode()
    assert "What you can do" in response.content.decode()


def test_no_matching_policy_is_refused(client, clock, make_mfa_app):
    org, app, policy, user = make_mfa_app(policy_fields={"include": [{"selector": "email", "value": "x@example.test"}]})
    sign_in(client, user.email, PW)
    response = client.get("/demo/a/")
    assert response.status_code == 403
    assert "no policy" in response.content.decode()


def test_bypass_policy_passes_without_mfa(client, clock, make_mfa_app):
    org, app, policy, user = make_mfa_app(policy_fields={"decision": c.BYPASS})
    enroll_totp(user)
    sign_in(client, user.email, PW)
    response = client.get("/demo/a/")
    assert response.status_code == 200
    assert response.wsgi_request.access.decision.outcome == "bypass"


def test_non_member_is_refused(client, clock, make_mfa_app, make_user):
    make_mfa_app()
    make_user("stranger@example.test")
    sign_in(client, "stranger@example.test", PW)
    assert client.get("/demo/a/").status_code == 403


# ------------------------------------------------------------------------------ auth_method
def test_require_auth_method_refuses_a_sign_in_without_it(client, clock, make_mfa_app):
    policy_fields = {"require": [{"selector": "auth_method", "value": "hwk"}], "mfa_mode": c.MODE_DISABLED}
    org, app, policy, user = make_mfa_app(policy_fields=policy_fields)
    simulate_oidc_sign_in(client, user, connection="corp", amr=["pwd"])
    response = client.get("/demo/a/")
    assert response.status_code == 403
    assert "amr" in response.content.decode()
    client.logout()
    simulate_oidc_sign_in(client, user, connection="corp", amr=["pwd", "hwk"])
    assert client.get("/demo/a/").status_code == 200


# ------------------------------------------------------------------ a method-specific policy
def test_totp_verified_session_fails_a_keys_only_policy(client, clock, make_mfa_app, make_app, make_policy):
    org, app, _, user = make_mfa_app()
    keys_app = make_app(org, path_prefixes=["/demo/b/"])
    make_policy(org, apps=[keys_app], mfa_mode=c.MODE_CUSTOM, mfa_allowed_authenticators=[c.SECURITY_KEY],
                mfa_session_duration="1h")
    _, otp = enroll_totp(user)
    enroll_webauthn(user, FakeAuthenticator())
    sign_in(client, user.email, PW)
    client.get("/demo/a/")
    _verify(client, clock, otp)
    assert client.get("/demo/a/").status_code == 200
    assert client.get("/demo/b/")["Location"].startswith(VERIFY)


# ------------------------------------------------------------------------------- revocation
def _pass_with_totp(client, clock, user):
    authenticator, otp = enroll_totp(user)
    sign_in(client, user.email, PW)
    client.get("/demo/a/")
    assert _verify(client, clock, otp)["Location"] == "/demo/a/"
    assert client.get("/demo/a/").status_code == 200
    return authenticator, otp


def test_configuration_change_revokes_app_sessions(client, clock, make_mfa_app, django_capture_on_commit_callbacks):
    org, app, policy, user = make_mfa_app()
    _pass_with_totp(client, clock, user)
    policy.decision = c.DENY
    with django_capture_on_commit_callbacks(execute=True):
        configuration_save(acting_user=None, instance=policy)
    assert client.get("/demo/a/").status_code == 403


def test_configuration_change_revokes_even_with_a_cold_cache(client, clock, make_mfa_app,
                                                             django_capture_on_commit_callbacks):
    org, app, policy, user = make_mfa_app()
    _pass_with_totp(client, clock, user)
    policy.decision = c.DENY
    with django_capture_on_commit_callbacks(execute=True):
        configuration_save(acting_user=None, instance=policy)
    cache.clear()  # evicted: the generation falls back to a fresh value and the DB answers
    assert client.get("/demo/a/").status_code == 403


def test_configuration_change_reruns_the_flow_which_may_pass_by_mfa_session(client, clock, make_mfa_app,
                                                                            django_capture_on_commit_callbacks):
    org, app, policy, user = make_mfa_app()
    _pass_with_totp(client, clock, user)
    app.name = "Renamed"
    with django_capture_on_commit_callbacks(execute=True):
        configuration_save(acting_user=None, instance=app)
    response = client.get("/demo/a/")
    assert response.status_code == 200
    assert response.wsgi_request.access.decision.satisfied_by == "mfa_session"
    assert response.wsgi_request.access.application.name == "Renamed"


def test_an_environment_wide_change_makes_every_app_session_rerun_its_login_flow(
        client, clock, make_mfa_app, django_capture_on_commit_callbacks):
    """The environment's settings reach every application's login flow but no application row: the
    change raises the environment generation, and an app session granted under the old one re-runs
    — here sent to the MFA challenge, now that the environment requires MFA."""
    from mfa_policies.access import mirror
    from mfa_policies.models import Environment

    org, app, policy, user = make_mfa_app({"mfa_required_for_all_apps": False})
    enroll_totp(user)
    sign_in(client, user.email, PW)
    assert client.get("/demo/a/").status_code == 200  # no MFA required yet
    with CaptureQueriesContext(db_connection) as hot:
        assert client.get("/demo/a/").status_code == 200
    env = Environment.load()
    env.mfa_requirement, env.allowed_authenticators = c.ENV_YES, [c.TOTP]
    with django_capture_on_commit_callbacks(execute=True):
        configuration_save(acting_user=None, instance=env)
    response = client.get("/demo/a/")
    assert mirror.last_refresh()[1] == "environment"  # the table kept as it was: no application changed
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert len(hot.captured_queries) <= 3  # the hot path before: session, user, nothing of ours


def test_a_role_or_connection_change_makes_live_app_sessions_rerun_their_login_flow(
        client, clock, make_mfa_app, make_role, make_connection, django_capture_on_commit_callbacks):
    org, app, policy, user = make_mfa_app()
    _pass_with_totp(client, clock, user)
    role, connection = make_role("billing"), make_connection("okta", c.CONNECTION_OIDC)
    for changed in (role, connection):
        granted = client.session["mfagate.apps"][str(app.pk)]["granted_at"]
        clock.advance(seconds=5)
        assert client.get("/demo/a/").status_code == 200
        assert client.session["mfagate.apps"][str(app.pk)]["granted_at"] == granted  # live: kept
        changed.name = f"{changed.name} renamed"
        with django_capture_on_commit_callbacks(execute=True):
            configuration_save(acting_user=None, instance=changed)
        response = client.get("/demo/a/")
        assert response.status_code == 200 and response.wsgi_request.access.decision.satisfied_by == "mfa_session"
        assert client.session["mfagate.apps"][str(app.pk)]["granted_at"] > granted  # the login flow ran again


def test_an_environment_change_no_process_announced_is_seen_within_the_lease(
        client, clock, make_mfa_app, monkeypatch):
    """Written by a process that died before announcing it (or announced on another Redis): the
    next request after the lease reads the new environment generation and re-runs the flow."""
    from mfa_policies import generation
    from mfa_policies.access import mirror

    now = [1000.0]
    monkeypatch.setattr(mirror, "_monotonic", lambda: now[0])
    org, app, policy, user = make_mfa_app()
    _pass_with_totp(client, clock, user)
    granted = client.session["mfagate.apps"][str(app.pk)]["granted_at"]
    clock.advance(seconds=5)
    value = generation.configuration_generation() + 1
    generation.ConfigurationGeneration.objects.update_or_create(scope=generation.GLOBAL, defaults={"generation": value})
    generation.ConfigurationGeneration.objects.update_or_create(scope=generation.ENVIRONMENT,
                                                                defaults={"generation": value})
    now[0] += mirror.LEASE + 0.01
    assert client.get("/demo/a/").status_code == 200
    assert client.session["mfagate.apps"][str(app.pk)]["granted_at"] > granted


def _remove(user, authenticator, run_on_commit):
    from enrollment.flows import authenticator_remove
    from tests.support.authenticators import step_up_request

    request = step_up_request(user, path="/account/")
    with run_on_commit():
        authenticator_remove(request=request, acting_user=user, authenticator_id=authenticator.pk)


def test_removing_the_authenticator_revokes_the_app_session(client, clock, make_mfa_app, run_on_commit):
    org, app, policy, user = make_mfa_app()
    authenticator, _ = _pass_with_totp(client, clock, user)
    _remove(user, authenticator, run_on_commit)
    response = client.get("/demo/a/")
    assert response.status_code == 302
    assert response["Location"].startswith("/AddMfaDevice?next=")  # nothing left: lockout recovery


def test_removal_revokes_even_with_a_cold_cache(client, clock, make_mfa_app, run_on_commit):
    org, app, policy, user = make_mfa_app()
    authenticator, _ = _pass_with_totp(client, clock, user)
    _remove(user, authenticator, run_on_commit)
    cache.clear()
    assert client.get("/demo/a/").status_code == 302


def test_removing_any_authenticator_elsewhere_makes_this_browser_redo_mfa(client, clock, make_mfa_app, run_on_commit):
    """SECURITY row 13: after an authenticator change, other sessions must complete MFA again —
    even when the removed authenticator is not the one this browser verified with."""
    org, app, policy, user = make_mfa_app()
    _pass_with_totp(client, clock, user)
    key = enroll_webauthn(user, FakeAuthenticator())
    _remove(user, key, run_on_commit)
    response = client.get("/demo/a/")
    assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/")


def test_removal_in_one_browser_revokes_the_other_browsers_session(client, clock, make_mfa_app, run_on_commit):
    from django.test import Client

    org, app, policy, user = make_mfa_app()
    authenticator, otp = _pass_with_totp(client, clock, user)
    other = Client()
    sign_in(other, user.email, PW)
    other.get("/demo/a/")
    clock.advance(seconds=31)
    assert other.post(VERIFY, {"code": code_at(otp)}).status_code == 302
    assert other.get("/demo/a/").status_code == 200
    _remove(user, authenticator, run_on_commit)
    assert other.get("/demo/a/").status_code == 302
    assert client.get("/demo/a/").status_code == 302


def test_the_browser_that_removes_keeps_its_session_and_every_other_browser_redoes_mfa(
        client, clock, make_mfa_app, run_on_commit):
    """SECURITY row 13 through the real pages: step up, remove a second device, keep going here;
    the user's other browser must complete MFA again."""
    from django.test import Client

    org, app, policy, user = make_mfa_app()
    _, otp = _pass_with_totp(client, clock, user)
    spare = enroll_webauthn(user, FakeAuthenticator())
    other = Client()
    sign_in(other, user.email, PW)
    other.get("/demo/a/")
    assert _verify(other, clock, otp).status_code == 302
    assert other.get("/demo/a/").status_code == 200

    clock.advance(seconds=31)
    assert client.post("/account/mfa-devices/verify/", {"code": code_at(otp)}).status_code == 302  # step-up
    with run_on_commit():
        removed = client.post(f"/account/mfa-devices/{spare.pk}/remove/")
    assert removed.status_code == 302
    assert client.get("/demo/a/").status_code == 200
    response = other.get("/demo/a/")
    assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/")


# --------------------------------------------------------------------------------- next
EVIL = ["//evil.com", "http:\\\\evil.com", "\njavascript:x", "http://testserver\\@evil.com", "http:999999999",
        "https://evil.com/", "///evil.com"]


@pytest.mark.parametrize("payload", EVIL)
def test_sign_in_next_stays_on_site(client, clock, make_mfa_app, payload):
    org, app, policy, user = make_mfa_app()
    response = signin_form(client, user.email, PW, next_url=None) if False else client.post(
        "/accounts/login/", {"login": user.email, "password": PW, "next": payload})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location


@pytest.mark.parametrize("payload", EVIL)
def test_challenge_next_stays_on_site(client, clock, make_mfa_app, payload):
    org, app, policy, user = make_mfa_app()
    _, otp = enroll_totp(user)
    sign_in(client, user.email, PW)
    client.get("/demo/a/")
    clock.advance(seconds=31)
    session = client.session
    session["mfagate.pending"]["next"] = payload  # even a tampered pending target
    session.save()
    response = client.post(f"{VERIFY}?next={payload}", {"code": code_at(otp)})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_challenge_without_pending_ignores_an_evil_next(client, clock, make_mfa_app):
    org, app, policy, user = make_mfa_app()
    sign_in(client, user.email, PW)
    response = client.get(f"{VERIFY}?next=//evil.com")
    assert response.status_code == 302 and response["Location"] == "/"


def test_app_covering_everything_never_redirects_off_site_after_mfa(client, clock, make_mfa_app):
    org, app, policy, user = make_mfa_app(app_fields={"path_prefixes": ["/"]})
    _, otp = enroll_totp(user)
    sign_in(client, user.email, PW)
    response = client.get("/x", PATH_INFO="//evil.com/")  # the client would parse //evil.com as a host
    assert response["Location"].startswith(VERIFY)
    done = _verify(client, clock, otp)
    assert done["Location"] == "/"


def test_anonymous_user_goes_to_sign_in_with_next(client, clock, make_mfa_app):
    make_mfa_app()
    response = client.get("/demo/a/?x=1")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/demo/a/%3Fx%3D1"


# ----------------------------------------------------------------------------- throttling
def test_wrong_totp_codes_are_throttled(client, clock, make_mfa_app):
    org, app, policy, user = make_mfa_app()
    _, otp = enroll_totp(user)
    sign_in(client, user.email, PW)
    client.get("/demo/a/")
    messages = []
    for _ in range(7):
        response = client.post(VERIFY, {"code": "000000" if code_at(otp) != "000000" else "111111"})
        assert response.status_code == 400
        messages.append(response.content.decode())
    assert "wait" in messages[-1].lower() or "try again in" in messages[-1].lower()
    refused = client.post(VERIFY, {"code": code_at(otp)})
    assert refused.status_code == 400  # even the right code waits
    clock.advance(minutes=5)
    assert client.post(VERIFY, {"code": code_at(otp)}).status_code == 302


def test_a_totp_code_is_accepted_once(client, clock, make_mfa_app, make_app, make_policy):
    org, app, policy, user = make_mfa_app()
    other = make_app(org, path_prefixes=["/demo/b/"])
    make_policy(org, apps=[other], mfa_mode=c.MODE_CUSTOM, mfa_allowed_authenticators=[c.TOTP],
                mfa_session_duration="0m")
    _, otp = enroll_totp(user)
    sign_in(client, user.email, PW)
    client.get("/demo/a/")
    clock.advance(seconds=31)
    code = code_at(otp)
    assert client.post(VERIFY, {"code": code}).status_code == 302
    client.get("/demo/b/")
    assert client.post(VERIFY, {"code": code}).status_code == 400


# ---------------------------------------------------------------------------- the hot path
def test_live_app_session_costs_no_query_beyond_session_and_user(client, clock, make_mfa_app):
    org, app, policy, user = make_mfa_app()
    _pass_with_totp(client, clock, user)
    with CaptureQueriesContext(db_connection) as queries:
        assert client.get("/demo/a/").status_code == 200
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert len(queries.captured_queries) == 2, tables  # the session row and the user row
    assert "mfa_policies" not in tables and "enrollment" not in tables


def test_login_flow_query_count_does_not_grow_with_policies(client, clock, make_mfa_app, make_policy, make_user,
                                                            make_member):
    org, app, policy, user = make_mfa_app()
    sign_in(client, user.email, PW)

    def flow_queries():
        session = client.session
        session.pop("mfagate.apps", None)
        session.save()
        with CaptureQueriesContext(db_connection) as queries:
            client.get("/demo/a/")
        return len(queries.captured_queries)

    flow_queries()  # warm: the application table, the user's generation in the cache
    before = flow_queries()
    for i in range(20):
        make_policy(org, apps=[app], include=[{"selector": "email", "value": f"n{i}@example.test"}], precedence=100 + i)
        make_member(make_user(f"n{i}@example.test"), org)
    assert flow_queries() == before


#: What every request of a signed-in browser costs Django itself: the session row and the user
#: row, and saving the session (a savepoint, the UPDATE, its release inside the test's transaction).
SESSION_USER_AND_SAVE = 2 + 3
#: What the login flow may add (issue 9): its input's configuration is kept per generation.
LOGIN_FLOW_QUERIES = 4


@pytest.mark.parametrize("policies", [10, 10_000])
def test_the_login_flow_needs_at_most_four_queries_whatever_the_number_of_policies(
        policies, client, clock, make_mfa_app, django_assert_max_num_queries):
    from mfa_policies.access import mirror
    from mfa_policies.models import AppPolicy, Policy

    org, app, policy, user = make_mfa_app()
    created = Policy.objects.bulk_create([
        Policy(organization=org, name=f"bulk {i}", include=[{"selector": "email", "value": f"b{i}@example.test"}])
        for i in range(policies - 1)])
    AppPolicy.objects.bulk_create([AppPolicy(application=app, policy=p, precedence=10 + i) for i, p in enumerate(created)])
    mirror.reset()  # written behind the services' back: start from the database
    _pass_with_totp(client, clock, user)

    def forget_app_session():
        session = client.session
        session.pop("mfagate.apps", None)
        session.save()

    def flow():
        response = client.get("/demo/a/")
        assert response.status_code == 200 and response.wsgi_request.access.decision.satisfied_by == "mfa_session"

    forget_app_session()
    flow()  # the configuration input is built once per generation
    forget_app_session()
    with django_assert_max_num_queries(SESSION_USER_AND_SAVE + LOGIN_FLOW_QUERIES) as captured:
        flow()
    others = [q["sql"] for q in captured.captured_queries
              if not any(t in q["sql"] for t in ("django_session", "accounts_user", "SAVEPOINT"))]
    assert len(others) <= LOGIN_FLOW_QUERIES, others


# -------------------------------------------------------------------------------- decorator
def test_decorator_enforces_the_named_application(client, clock, demo):
    from accounts.models import User

    _, otp = enroll_totp(User.objects.get(email="other@demo.test"))
    sign_in(client, "other@demo.test")
    response = client.get("/demo/reports/")
    assert response["Location"].startswith(VERIFY)
    assert _verify(client, clock, otp)["Location"] == "/demo/reports/"
    ok = client.get("/demo/reports/")
    assert ok.status_code == 200 and b"mfa_protected" in ok.content
    assert client.get("/demo/a/").status_code == 200  # the same app session


# ----------------------------------------------------------------- SECURITY row 16: every URL
def _paths(resolver=None, prefix="/"):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = str(pattern.pattern)
        if route.startswith("^"):
            route = route.lstrip("^").rstrip("$").replace("\\Z", "")
        if any(ch in route for ch in "<(["):
            route = _fill(route)
            if route is None:
                continue
        if isinstance(pattern, URLResolver):
            yield from _paths(pattern, prefix + route)
        elif isinstance(pattern, URLPattern):
            yield prefix + route


def _fill(route):
    import re

    route = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "00000000-0000-0000-0000-000000000000" if m[1] == "uuid"
                   else "1" if m[1] == "int" else "x", route)
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    return None if any(ch in route for ch in "()[]?*+\\") else route


ALLOW_LIST = ("/", "/AddMfaDevice")
# /client/v4/ is the REST API, guarded by bearer tokens (never by the browser session): see tests/test_api_auth.py.
ALLOW_PREFIXES = ("/AddMfaDevice/", "/account/", "/accounts/", "/mfa/", "/static/", "/.well-known/", "/client/v4/")


def test_every_url_with_a_password_only_session_redirects_to_mfa(client, clock, make_mfa_app):
    org, app, policy, user = make_mfa_app(app_fields={"path_prefixes": ["/"]})
    user.is_staff = user.is_superuser = True
    user.save()
    enroll_totp(user)
    sign_in(client, user.email, PW)
    paths = sorted(set(_paths()))
    assert "/admin/" in paths and "/demo/a/" in paths
    gated = 0
    for path in paths:
        response = client.get(path)
        if path in ALLOW_LIST or path.startswith(ALLOW_PREFIXES):
            assert not response.get("Location", "").startswith(VERIFY), path
        else:
            assert response.status_code == 302 and response["Location"].startswith(VERIFY), (path, response.status_code)
            gated += 1
    assert gated >= 5


def test_the_app_session_keeps_a_short_trail_however_many_policies_were_tried(client, clock, make_mfa_app):
    """The policy tester shows every policy tried; the app session — saved with the browser session
    on every login flow — keeps the first twenty and counts the rest."""
    from mfa_policies.access import mirror
    from mfa_policies.access.enforcement import GrantedDecision
    from mfa_policies.models import AppPolicy, Policy

    org, app, policy, user = make_mfa_app()
    AppPolicy.objects.filter(application=app).update(precedence=1000)
    others = Policy.objects.bulk_create([Policy(organization=org, name=f"other {i}",
                                                include=[{"selector": "email", "value": f"o{i}@example.test"}])
                                         for i in range(50)])
    AppPolicy.objects.bulk_create([AppPolicy(application=app, policy=p, precedence=i + 1) for i, p in enumerate(others)])
    mirror.reset()
    _pass_with_totp(client, clock, user)
    trail = client.get("/demo/a/").wsgi_request.access.decision.trail
    skipped = [s for s in trail if "does not match" in s]
    assert skipped[:2] == ["[policy] policy “other 0” does not match: no include rule matches",
                           "[policy] policy “other 1” does not match: no include rule matches"]
    assert len(skipped) == GrantedDecision.SKIPPED_KEPT
    assert trail[len(skipped)] == f"[policy] … and {50 - GrantedDecision.SKIPPED_KEPT} more policies that do not match"
    assert any(f"policy “{policy.name}”" in s and "matches" in s for s in trail)
