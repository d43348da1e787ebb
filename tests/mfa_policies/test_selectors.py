"""The selectors build the resolver's input in a fixed number of queries."""

from __future__ import annotations

import pytest

from enrollment.models import Authenticator
from mfa_policies import constants as c
from mfa_policies import resolution as r
from mfa_policies.models import (AppPolicy, Application, Connection, Membership, Organization, Policy, Role)
from mfa_policies.selectors import access_request_for
from enrollment.selectors import enrolled_kinds

MAX_QUERIES = 7


def populate(n: int, make_user):
    """n organizations, roles, policies on one app, members and exemptions."""
    orgs = Organization.objects.bulk_create(
        [Organization(name=f"Org {i}", allowed_authenticators=["totp"]) for i in range(n)])
    org = orgs[0]
    roles = Role.objects.bulk_create([Role(key=f"role-{i}", name=f"Role {i}") for i in range(n)])
    connections = Connection.objects.bulk_create(
        [Connection(key=f"idp-{i}", name=f"IdP {i}", kind=c.CONNECTION_OIDC) for i in range(n)])
    org.exempt_roles.set(roles[: n // 2])
    org.exempt_connections.set(connections)
    app = Application.objects.create(organization=org, name="Big app", path_prefixes=["/big/"])
    policies = Policy.objects.bulk_create([
        Policy(organization=org, name=f"P{i}", include=[{"selector": "email", "value": f"nobody{i}@x.test"}])
        for i in range(n)
    ])
    AppPolicy.objects.bulk_create([AppPolicy(application=app, policy=p, precedence=i) for i, p in enumerate(policies)])
    last = Policy.objects.create(organization=org, name="Everyone", include=[{"selector": "everyone", "value": ""}])
    AppPolicy.objects.create(application=app, policy=last, precedence=n + 1)
    user = make_user("member@x.test")
    memberships = Membership.objects.bulk_create([Membership(user=user, organization=o) for o in orgs])
    Through = Membership.roles.through
    Through.objects.bulk_create([Through(membership_id=memberships[0].pk, role_id=role.pk) for role in roles])
    others = [make_user(f"u{i}@x.test") for i in range(min(n, 50))]
    Membership.objects.bulk_create([Membership(user=u, organization=org) for u in others])
    return app, user


@pytest.mark.parametrize("n", [10, 1000])
def test_access_request_takes_a_fixed_number_of_queries(n, make_user, clock, django_assert_max_num_queries):
    app, user = populate(n, make_user)
    app = Application.objects.select_related("organization").get(pk=app.pk)
    with django_assert_max_num_queries(MAX_QUERIES):
        request = access_request_for(user=user, enrolled_kinds=enrolled_kinds(user), application=app, sign_in=r.SignIn("password"), now=clock.now)
    assert len(request.policies) == n + 1
    assert len(request.user.roles) == n, "every role of the user in this organization"
    assert len(request.organization.exempt_connections) == n
    decision = r.resolve(request)
    assert decision.policy == "Everyone"


def test_access_request_by_id_adds_one_query(make_user, clock, django_assert_max_num_queries):
    app, user = populate(10, make_user)
    with django_assert_max_num_queries(MAX_QUERIES + 1):
        access_request_for(user=user, enrolled_kinds=enrolled_kinds(user), application=app.pk, sign_in=r.SignIn("password"), now=clock.now)


def test_user_facts_reflect_membership_roles_and_enrolled_kinds(demo, clock):
    from accounts.models import User
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = User.objects.get(email="mixed@demo.test")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    Authenticator.objects.create(user=user, kind=c.TOTP, name="Phone", created_at=clock.now, totp_device=device)
    app = Application.objects.get(name="Application A")
    request = access_request_for(user=user, enrolled_kinds=enrolled_kinds(user), application=app, sign_in=r.SignIn("password"), now=clock.now)
    assert request.user.is_member and request.user.roles == {"admin", "billing"}
    assert request.user.enrolled_kinds == {c.TOTP}
    assert request.organization.exempt_roles == {"admin"} and request.organization.exempt_connections == {"okta"}
    assert [p.name for p in request.policies] == ["Policy 1", "Policy 2", "Everyone"]


def test_a_non_member_is_seen_as_such(demo, make_user, clock):
    stranger = make_user("stranger@else.test")
    app = Application.objects.get(name="Application A")
    request = access_request_for(user=stranger, enrolled_kinds=enrolled_kinds(stranger), application=app, sign_in=r.SignIn("password"), now=clock.now)
    assert not request.user.is_member
    assert r.resolve(request).outcome == c.DENY


def test_a_member_without_roles_is_still_a_member(demo, make_user, make_member, clock):
    user = make_user("plain@demo.test")
    make_member(user, demo)
    app = Application.objects.get(name="Application A")
    request = access_request_for(user=user, enrolled_kinds=enrolled_kinds(user), application=app, sign_in=r.SignIn("password"), now=clock.now)
    assert request.user.is_member and request.user.roles == frozenset()


def test_every_app_request_for_a_user_equals_the_single_app_request(demo, clock, make_org, make_app,
                                                                     make_policy, make_member):
    from accounts.models import User
    from mfa_policies.selectors import access_requests_for_user

    user = User.objects.get(email="mixed@demo.test")
    second = make_org("Second")
    make_member(user, second)
    make_policy(second, "All", apps=[make_app(second, "Wiki", path_prefixes=["/wiki/"])])
    sign_in = r.SignIn("okta", amr=("pwd", "hwk"), authenticated_at=clock.now)
    batch = access_requests_for_user(user=user, enrolled_kinds=enrolled_kinds(user), sign_in=sign_in, now=clock.now)
    assert [app.name for app, _ in batch] == ["Admin console", "Application A", "Application B", "Wiki"]
    for app, request in batch:
        assert request == access_request_for(user=user, enrolled_kinds=enrolled_kinds(user), application=app, sign_in=sign_in, now=clock.now)


@pytest.mark.parametrize("apps", [1, 30])
def test_the_launcher_question_takes_a_fixed_number_of_queries(apps, make_user, make_org, make_app, make_policy,
                                                               make_member, clock, django_assert_max_num_queries):
    from mfa_policies.selectors import access_requests_for_user

    user = make_user()
    for i in range(apps):
        org = make_org(f"Org {i}")
        make_member(user, org)
        make_policy(org, apps=[make_app(org, path_prefixes=[f"/app{i}/"])])
    with django_assert_max_num_queries(MAX_QUERIES):
        batch = access_requests_for_user(user=user, enrolled_kinds=enrolled_kinds(user), sign_in=r.SignIn("password"), now=clock.now)
    assert len(batch) == apps and all(r.resolve(request).allowed for _, request in batch)


def test_a_user_without_memberships_has_no_applications(make_user, clock, django_assert_max_num_queries):
    from mfa_policies.selectors import access_requests_for_user

    user = make_user()
    kinds = enrolled_kinds(user)  # the caller's query, not the selector's
    with django_assert_max_num_queries(1):
        assert access_requests_for_user(user=user, enrolled_kinds=kinds, sign_in=r.SignIn("password"), now=clock.now) == []
