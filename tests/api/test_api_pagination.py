"""Pagination like Cloudflare's on every list, access/users filters, users/<id>, the token's
last_used_at and manage.py create_api_token."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditEvent
from api import scopes as s
from api.models import ApiToken
from tests.support.api import ApiClient, messages


@pytest.fixture
def members(api_org, make_user, make_member):
    users = [make_user(f"user{i:02d}@x.test", name=f"User {i:02d}") for i in range(7)]
    for user in users:
        make_member(user, api_org)
    return users


@pytest.mark.parametrize("path", ["access/users", "access/apps", "access/policies", "gateway/lists"])
def test_every_list_has_result_info(api, path):
    status, payload = api.get(path)
    assert status == 200
    assert payload["result_info"] == {"page": 1, "per_page": 25, "count": len(payload["result"]),
                                      "total_count": len(payload["result"]), "total_pages": 0 if not payload["result"] else 1}


def test_pages_walk_to_an_empty_page(api, members):
    seen = []
    for page in range(1, 6):
        status, payload = api.get("access/users", QUERY_STRING=f"page={page}&per_page=3")
        assert status == 200
        if not payload["result"]:
            break
        seen += [u["email"] for u in payload["result"]]
        assert payload["result_info"] == {"page": page, "per_page": 3, "count": len(payload["result"]),
                                          "total_count": 7, "total_pages": 3}
    assert page == 4 and seen == sorted(u.email for u in members)


@pytest.mark.parametrize("query", ["per_page=0", "per_page=1001", "per_page=x", "page=0", "page=-1", "page=1.5",
                                   "per_page=99999999999999999999"])
def test_bad_paging_is_400_naming_the_parameter(api, query):
    status, payload = api.get("access/users", QUERY_STRING=query)
    assert status == 400 and messages(payload).startswith(query.split("=")[0])


def test_email_filter_is_exact_so_a_lockout_script_cannot_hit_the_wrong_user(api, members, make_user, make_member,
                                                                             api_org):
    prefix = make_user("user0@x.test")  # a prefix of every other address
    make_member(prefix, api_org)
    status, payload = api.get("access/users", QUERY_STRING="email=user03@x.test")
    assert [u["email"] for u in payload["result"]] == ["user03@x.test"]
    assert [u["email"] for u in api.get("access/users", QUERY_STRING="email=USER0@x.test")[1]["result"]] == [
        "user0@x.test"]
    for query in ("email=user0", "email=x.test", "email=ser03@x.test", "email="):
        assert api.get("access/users", QUERY_STRING=query)[1]["result"] == [], query


def test_name_and_search_filters(api, members, make_user, make_org, make_member):
    outsider = make_user("user99@x.test", name="User 99")
    make_member(outsider, make_org("Other"))
    assert [u["name"] for u in api.get("access/users", QUERY_STRING="name=user 05")[1]["result"]] == ["User 05"]
    assert api.get("access/users", QUERY_STRING="name=User 0")[1]["result"] == []
    found = api.get("access/users", QUERY_STRING="search=user0")[1]
    assert found["result_info"]["total_count"] == 7
    assert api.get("access/users", QUERY_STRING="search=99")[1]["result"] == []  # not a member


def test_one_user(api, members, make_user):
    status, payload = api.get(f"access/users/{members[0].pk}")
    assert status == 200 and payload["result"] == {"id": str(members[0].pk), "email": "user00@x.test",
                                                   "name": "User 00", "mfa_authenticator_count": 0}
    assert api.get(f"access/users/{make_user().pk}")[0] == 404
    assert api.get("access/users/nope")[0] == 400


def test_last_used_at_is_written_at_most_once_a_minute(client, api_org, make_token, clock, django_assert_num_queries):
    token, plaintext = make_token(api_org, scopes=[s.ORGANIZATIONS_READ])
    api = ApiClient(client, api_org.account_id, plaintext)
    api.get("access/organizations")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first == clock.now
    clock.advance(seconds=59)
    with django_assert_num_queries(4):  # the token, the stored fields, exempt roles and connections: no write
        api.get("access/organizations")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    clock.advance(seconds=1)
    api.get("access/organizations")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first + dt.timedelta(minutes=1)


def test_create_api_token_prints_a_working_token_last(client, api_org, api_admin, clock):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "--account-id", api_org.account_id, "--scope", s.ORGANIZATIONS_READ,
                 "--scope", s.USERS_READ, "--name", "ci", "--expires-in", "30d", stdout=out, stderr=err)
    plaintext = out.getvalue().strip().splitlines()[-1]
    token = ApiToken.objects.get(name="ci")
    assert token.owner == api_admin and token.scopes == [s.ORGANIZATIONS_READ, s.USERS_READ]
    assert token.expires_at == clock.now + dt.timedelta(days=30) and plaintext not in err.getvalue()
    assert AuditEvent.objects.filter(action="apitoken.create", object_id=str(token.pk)).exists()
    api = ApiClient(client, api_org.account_id, plaintext)
    assert api.get("access/organizations")[0] == 200 and api.get("access/apps")[0] == 403


@pytest.mark.parametrize("args, needle", [
    (["--account-id", "0" * 32, "--scope", s.USERS_READ], "--account-id"),
    (["--scope", s.USERS_READ, "--expires-in", "soon"], "--expires-in"),
    (["--scope", s.USERS_READ, "--owner", "nobody@x.test"], "--owner"),
])
def test_create_api_token_refuses_naming_the_option(api_org, api_admin, args, needle):
    if "--account-id" not in args:
        args = ["--account-id", api_org.account_id, *args]
    with pytest.raises(CommandError, match=needle):
        call_command("create_api_token", *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert not ApiToken.objects.exists()


def test_create_api_token_needs_an_owner_when_several_superusers_could_be_it(api_org, api_admin, make_user):
    make_user("root2@x.test", is_staff=True, is_superuser=True)
    with pytest.raises(CommandError, match="--owner"):
        call_command("create_api_token", "--account-id", api_org.account_id, "--scope", s.USERS_READ,
                     stdout=io.StringIO(), stderr=io.StringIO())
    call_command("create_api_token", "--account-id", api_org.account_id, "--scope", s.USERS_READ,
                 "--owner", "root2@x.test", stdout=io.StringIO(), stderr=io.StringIO())
    assert ApiToken.objects.get().owner.email == "root2@x.test"
