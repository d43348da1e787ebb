"""The admin's widgets that stay small at scale: typed filters instead of lists of every row, and an
application's attached policies a page at a time."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.http import urlencode

from mfa_policies import constants as c
from mfa_policies.admin.forms import AppPolicyFormSet
from mfa_policies.models import AppPolicy, Membership, Policy

APPLICATIONS = "/admin/mfa_policies/application/"


def listed(response) -> list[str]:
    """The names in a changelist's first column."""
    return re.findall(r'<th class="field-[a-z_]+"><a href="[^"]+">([^<]+)</a></th>', response.content.decode())


@pytest.fixture
def two_orgs(make_org, make_app):
    acme, globex = make_org("Acme Corp"), make_org("Globex")
    make_app(acme, "Acme portal"), make_app(acme, "Acme wiki"), make_app(globex, "Globex mail")
    return acme, globex


# --- the organization filter -------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["acme", "ACME corp", " Acme ", "me Co"])
def test_the_organization_filter_takes_part_of_a_name_in_any_case(admin_client, two_orgs, typed):
    response = admin_client.get(APPLICATIONS, {"organization": typed})
    assert response.status_code == 200
    assert sorted(listed(response)) == ["Acme portal", "Acme wiki"]


def test_the_organization_filter_takes_an_account_id(admin_client, two_orgs):
    _, globex = two_orgs
    response = admin_client.get(APPLICATIONS, {"organization": globex.account_id.upper()})
    assert listed(response) == ["Globex mail"]


def test_links_with_the_organization_id_keep_working(admin_client, two_orgs):
    acme, _ = two_orgs
    response = admin_client.get(APPLICATIONS, {"organization__id__exact": acme.pk})
    assert sorted(listed(response)) == ["Acme portal", "Acme wiki"]


def test_the_filter_is_a_text_box_that_keeps_the_other_filters(admin_client, two_orgs):
    body = admin_client.get(APPLICATIONS, {"organization": "acme", "mfa_mode__exact": c.MODE_INHERIT, "q": "wiki"}
                            ).content.decode()
    form = re.search(r'<form method="get" class="related-search-filter".*?</form>', body, re.S).group(0)
    assert re.search(r'name="organization"\s+value="acme"', form)
    assert '<input type="hidden" name="mfa_mode__exact" value="inherit">' in form
    assert '<input type="hidden" name="q" value="wiki">' in form
    assert "Acme Corp</a>" not in body and "Globex</a>" not in body, "no link per organization"
    assert "Name or account id matching “acme”" in body


@pytest.mark.parametrize("url", [APPLICATIONS, "/admin/mfa_policies/policy/", "/admin/mfa_policies/membership/",
                                 "/admin/mfa_policies/aaguidlist/", "/admin/api/apitoken/"])
@pytest.mark.parametrize("query, expected", [
    ("organization=%00", ["Acme portal", "Acme wiki", "Globex mail"]),  # nothing left to filter by
    ("organization=acme%00", ["Acme portal", "Acme wiki"]),  # control characters are dropped
    ("organization=" + "a" * 10_000, []), ("organization=%25", []), ("organization=_", []),
    ("organization=%27%20OR%201%3D1%20--", []), ("organization=%ED%A0%80", []), ("organization=%E2%80%AEemca", []),
    ("organization=%F0%9F%94%91", []), ("organization=acme&organization=globex", ["Globex mail"]),  # the last one
    ("organization=" + "0" * 32, []), ("organization__id__exact=not-a-number", None),
], ids=["nul", "nul-after", "huge", "percent", "underscore", "sql", "surrogate", "rtl", "emoji", "twice",
        "zero-id", "junk-id"])
def test_hostile_organization_filters_never_fail(admin_client, two_orgs, url, query, expected):
    response = admin_client.get(url, QUERY_STRING=query)
    assert response.status_code in (200, 302), response.status_code  # 302: Django's ?e=1 for a bad lookup
    if url == APPLICATIONS and expected is not None:
        assert sorted(listed(response)) == expected


def test_the_groups_filter_on_users_is_a_text_box(admin_client, make_user):
    support = Group.objects.create(name="Support desk")
    make_user("ann@x.test").groups.add(support)
    make_user("bob@x.test")
    response = admin_client.get("/admin/accounts/user/", {"groups": "support"})
    assert listed(response) == ["ann@x.test"]
    assert 'name="groups"' in response.content.decode()


def test_the_exempt_connections_box_offers_only_enterprise_connections(admin_client, make_connection):
    make_connection("password"), make_connection("okta", kind=c.CONNECTION_OIDC)
    make_connection("adfs", kind=c.CONNECTION_SAML)
    response = admin_client.get(reverse("admin:autocomplete"), {
        "app_label": "mfa_policies", "model_name": "organization", "field_name": "exempt_connections", "term": ""})
    assert sorted(r["text"] for r in response.json()["results"]) == ["Adfs", "Okta"]


# --- attached policies, a page at a time ---------------------------------------------------------

@pytest.fixture
def app_with_links(make_org, make_app, monkeypatch):
    """An application with 12 attached policies, precedence 10, 20, … 120; 5 to a page."""
    monkeypatch.setattr(AppPolicyFormSet, "per_page", 5)
    org = make_org("Acme Corp")
    app = make_app(org, "Portal", path_prefixes=["/portal/"])
    policies = Policy.objects.bulk_create([Policy(organization=org, name=f"Policy {i:02d}") for i in range(1, 13)])
    AppPolicy.objects.bulk_create([AppPolicy(application=app, policy=p, precedence=10 * i)
                                   for i, p in enumerate(policies, start=1)])
    return app


def change_url(app) -> str:
    return reverse("admin:mfa_policies_application_change", args=[app.pk])


def shown(response) -> list[str]:
    return re.findall(r'<td class="field-policy">\s*<a href="[^"]+">([^<]+)</a>', response.content.decode())


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.mark.parametrize("page, expected", [
    ("1", ["Policy 01", "Policy 02", "Policy 03", "Policy 04", "Policy 05"]),
    ("3", ["Policy 11", "Policy 12"]),
    ("99", ["Policy 11", "Policy 12"]), ("0", ["Policy 01", "Policy 02", "Policy 03", "Policy 04", "Policy 05"]),
    ("x", ["Policy 01", "Policy 02", "Policy 03", "Policy 04", "Policy 05"]),
])
def test_attached_policies_are_shown_a_page_at_a_time_in_precedence_order(admin_client, app_with_links, page, expected):
    response = admin_client.get(change_url(app_with_links), {"policies_page": page})
    assert response.status_code == 200
    assert shown(response) == expected


def test_the_page_says_where_it_is_and_links_the_next(admin_client, app_with_links):
    response = admin_client.get(change_url(app_with_links), {"policies_page": "2"})
    assert "12 attached policies; showing 6–10, page 2 of 3" in text(response)
    assert 'href="?policies_page=3" rel="next"' in response.content.decode()
    assert 'href="?" rel="prev"' in response.content.decode()


@pytest.mark.parametrize("query", ["policies_q=policy+1", "policies_q=%00Policy+1", "policies_q=Policy%201%00%1F"])
def test_attached_policies_are_searched_by_name(admin_client, app_with_links, query):
    response = admin_client.get(change_url(app_with_links), QUERY_STRING=query)
    assert response.status_code == 200
    assert shown(response) == ["Policy 10", "Policy 11", "Policy 12"]
    assert re.search(r"3 of 12 attached policies match “[Pp]olicy 1”", text(response))


@pytest.mark.parametrize("query", ["policies_q=%25", "policies_q=_", "policies_q=" + "x" * 5_000,
                                   "policies_q=%ED%A0%80", "policies_q=%27%20OR%201%3D1%20--",
                                   "policies_q=x&policies_page=-1", "policies_q=x&policies_page=" + "9" * 400])
def test_a_hostile_search_finds_nothing_and_never_fails(admin_client, app_with_links, query):
    response = admin_client.get(change_url(app_with_links), QUERY_STRING=query)
    assert response.status_code == 200 and shown(response) == []


def application_form(app, rows=(), new=()):
    """The change form's POST: ``rows`` are (link, precedence, delete) shown on the page, ``new`` are
    (policy, precedence) in extra rows."""
    data = {
        "mfa_mode": app.mfa_mode, "mfa_session_duration": app.mfa_session_duration, "organization": app.organization_id,
        "name": app.name, "path_prefixes": json.dumps(app.path_prefixes), "session_duration": app.session_duration,
        "app_policies-TOTAL_FORMS": len(rows) + len(new), "app_policies-INITIAL_FORMS": len(rows),
        "app_policies-MIN_NUM_FORMS": 0, "app_policies-MAX_NUM_FORMS": 1000,
    }
    for i, (link, precedence, delete) in enumerate(rows):
        data |= {f"app_policies-{i}-id": link.pk, f"app_policies-{i}-application": app.pk,
                 f"app_policies-{i}-precedence": precedence}
        if delete:
            data[f"app_policies-{i}-DELETE"] = "on"
    for i, (policy, precedence) in enumerate(new, start=len(rows)):
        data |= {f"app_policies-{i}-application": app.pk, f"app_policies-{i}-policy": policy.pk,
                 f"app_policies-{i}-precedence": precedence}
    return data


def links(app) -> dict[str, int]:
    return dict(AppPolicy.objects.filter(application=app).values_list("policy__name", "precedence"))


def test_saving_a_page_changes_its_rows_and_leaves_the_other_pages_alone(admin_client, app_with_links):
    app = app_with_links
    page_2 = list(AppPolicy.objects.filter(application=app).order_by("precedence")[5:10])
    rows = [(link, link.precedence, False) for link in page_2]
    rows[0] = (page_2[0], 65, False)  # Policy 06 moves from 60 to 65
    rows[1] = (page_2[1], page_2[1].precedence, True)  # Policy 07 is detached
    before = links(app)
    response = admin_client.post(f"{change_url(app)}?policies_page=2", application_form(app, rows))
    assert response.status_code == 302, response.content.decode()[:2000]
    expected = {name: precedence for name, precedence in before.items() if name != "Policy 07"} | {"Policy 06": 65}
    assert links(app) == expected


def test_a_policy_is_attached_with_a_precedence_from_any_page(admin_client, app_with_links):
    app = app_with_links
    extra = Policy.objects.create(organization=app.organization, name="Contractors")
    response = admin_client.post(f"{change_url(app)}?policies_page=3", application_form(app, new=[(extra, 5)]))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert links(app)["Contractors"] == 5 and len(links(app)) == 13
    assert shown(admin_client.get(change_url(app)))[0] == "Contractors"


def test_a_shown_link_keeps_its_policy_whatever_the_post_says(admin_client, app_with_links):
    """A row's policy is shown, not edited: to point a link elsewhere, detach it and attach another."""
    app = app_with_links
    link = AppPolicy.objects.filter(application=app).order_by("precedence").first()
    other = Policy.objects.create(organization=app.organization, name="Elsewhere")
    data = application_form(app, [(link, link.precedence, False)]) | {"app_policies-0-policy": other.pk}
    assert admin_client.post(change_url(app), data).status_code == 302
    link.refresh_from_db()
    assert link.policy.name == "Policy 01"


def test_a_new_application_has_no_pager(admin_client, make_org):
    make_org("Acme Corp")
    body = admin_client.get(reverse("admin:mfa_policies_application_add")).content.decode()
    assert "attached policies;" not in body and 'id="app-policy-search"' in body


def test_membership_roles_and_organization_are_search_boxes(admin_client, make_org, make_user, make_role, make_member):
    membership = make_member(make_user("ann@x.test"), make_org("Acme Corp"), roles=[make_role("billing")])
    for i in range(30):
        make_role(f"role-{i}")
    body = admin_client.get(reverse("admin:mfa_policies_membership_change", args=[membership.pk])).content.decode()
    # user and organization are fixed once a membership exists (shown as text); the roles box holds
    # only the selected role, the others are searched for
    assert body.count("<option") == 1, "only the selected role; the others are searched for"
    assert "ann@x.test" in body and "Acme Corp" in body
    body = admin_client.get(reverse("admin:mfa_policies_membership_add")).content.decode()
    assert body.count("<option") == 0, "user, organization and roles are all searched for"
    assert Membership.objects.count() == 1


def test_the_attached_policy_search_offers_only_the_applications_organization(admin_client, make_org, make_app):
    acme, other = make_org("Acme Corp"), make_org("Other Inc")
    app = make_app(acme, "Portal", path_prefixes=["/portal/"])
    Policy.objects.bulk_create([Policy(organization=acme, name="Acme staff"), Policy(organization=other, name="Other staff")])
    page = admin_client.get(change_url(app)).content.decode()
    select = next(tag for tag in re.findall(r"<select[^>]*>", page) if 'data-field-name="policy"' in tag)
    url = re.search(r'data-ajax--url="([^"]+)"', select).group(1).replace("&amp;", "&")
    assert url.endswith(f"?organization={acme.pk}")
    query = {"app_label": "mfa_policies", "model_name": "apppolicy", "field_name": "policy", "term": "staff"}
    offered = admin_client.get(f"{url}&{urlencode(query)}").json()["results"]  # as select2 appends its own
    assert [r["text"] for r in offered] == ["Acme staff"]
    # Without the organization (a new application has none yet) every policy is offered, as before;
    # a forged value finds nothing rather than failing.
    assert len(admin_client.get(reverse("admin:autocomplete"), query).json()["results"]) == 2
    assert admin_client.get(reverse("admin:autocomplete"), {**query, "organization": "1 OR 1=1"}).status_code == 200
