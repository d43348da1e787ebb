"""No N+1: every list answer takes the same number of queries for a few rows and for many, each row
with its links, stored fields and devices."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollment.models import Authenticator
from mfa_policies import constants as c
from api.models import StoredFields
from mfa_policies.models import AaguidItem, AaguidList, AppPolicy, Application, Policy

_n = itertools.count()
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def _grow(org, make_user, make_member, size: int) -> str:
    """``size`` more of everything a list shows, each with what it links to; returns a list id."""
    policies = Policy.objects.bulk_create(Policy(organization=org, name=f"P{next(_n)}", include=[
        {"selector": "everyone", "value": ""}]) for _ in range(size))
    apps = Application.objects.bulk_create(Application(organization=org, name=f"A{next(_n)}",
                                                       path_prefixes=[f"/q{next(_n)}/"]) for _ in range(size))
    AppPolicy.objects.bulk_create(AppPolicy(application=app, policy=policy, precedence=1)
                                  for app, policy in zip(apps, policies))
    StoredFields.objects.bulk_create([StoredFields(application=app, fields={"tags": ["x"]}) for app in apps]
                                     + [StoredFields(policy=p, fields={"approval_required": False}) for p in policies])
    lists = AaguidList.objects.bulk_create(AaguidList(organization=org, name=f"L{next(_n)}") for _ in range(size))
    AaguidItem.objects.bulk_create(AaguidItem(aaguid_list=obj, value=uuid.uuid4().hex) for obj in lists for _ in range(2))
    for _ in range(size):
        user = make_user()
        make_member(user, org)
        Authenticator.objects.create(user=user, kind=c.SECURITY_KEY, name="k", credential_id=uuid.uuid4().hex,
                                     public_key=b"k", created_at=NOW)
    return str(lists[0].pk)


def _queries(api, path: str) -> int:
    api.get(path)  # the token's last_used_at is written on the first request of the minute
    with CaptureQueriesContext(connection) as captured:
        status, payload = api.get(path, QUERY_STRING="per_page=1000")
    assert status == 200 and payload["result"], payload
    return len(captured)


@pytest.mark.parametrize("path", ["access/users", "access/apps", "access/policies", "gateway/lists",
                                  "gateway/lists/{list_id}/items", "access/apps/{app_id}/policies"])
def test_a_list_costs_the_same_queries_at_3_and_at_150_rows(api, api_org, make_user, make_member, path):
    api_org.allowed_authenticators = [c.TOTP]
    api_org.save()
    list_id = _grow(api_org, make_user, make_member, 3)
    app = Application.objects.filter(organization=api_org).first()
    concrete = path.format(list_id=list_id, app_id=app.public_id)
    small = _queries(api, concrete)
    _grow(api_org, make_user, make_member, 147)
    if "{app_id}" in path:  # give the same application many policies
        AppPolicy.objects.bulk_create(AppPolicy(application=app, policy=p, precedence=i + 10)
                                      for i, p in enumerate(Policy.objects.exclude(app_policies__application=app)))
    if "{list_id}" in path:
        AaguidItem.objects.bulk_create(AaguidItem(aaguid_list_id=list_id, value=uuid.uuid4().hex) for _ in range(150))
    large = _queries(api, concrete)
    assert small == large, (small, large)
    assert large <= 6
