"""Every admin page runs a bounded number of queries, the same at 10 and at 1 000 rows of everything.

For each ModelAdmin in ``admin.site._registry`` (ours and third-party ones, whatever is registered
when the suite runs): its changelist, the change page of its heaviest row
(``mfa_policies.demo.scale.sample_object``) and its add page. The rows come from the load generator
behind ``manage.py seed_scale``, written once per size for the whole module (committed, and deleted
after it: the pages only read). A model registered later without rows of its own fails
``test_every_registered_model_has_rows_to_show`` until seed_scale writes some.

The same page at both sizes must run the same number of queries (at most ``MAX_QUERIES``) and draw
the same number of options and list items — a select or a filter listing every row of a table
grows with it. Timings are for ``bench/admin_pages.py``, never asserted here.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from allauth.socialaccount.models import SocialApp
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.urls import NoReverseMatch, reverse

from accounts.models import AuditEvent
from api.models import ApiToken, hash_token
from mfa_policies import clock
from mfa_policies.demo import scale
from mfa_policies.models import AppPolicy, Application, Connection, Organization, Policy, Role

MAX_QUERIES = 15
MAX_PAGE_BYTES = 300 * 1024
SIZES = {"small": 10, "large": 1_000}
MODELS = sorted(admin.site._registry, key=lambda model: model._meta.label_lower)
PAGES = ("changelist", "change", "add")
_measured: dict[tuple[str, str], tuple[int, int, int]] = {}  # (label, page) → at the small size


def world_sizes(n: int) -> scale.ScaleSizes:
    # Social apps are identity-provider configurations, a handful in any deployment; allauth's own
    # social-account and token lists filter by them, one link each. Everything else grows with n.
    return replace(scale.ScaleSizes.uniform(n), social_apps=3, totp_devices=min(n, 100))


def _api_tokens(n: int, prefix: str):
    owner = get_user_model().objects.filter(email__endswith=f"@{scale.prefix_domain(prefix)}", is_staff=True).first()
    orgs = Organization.objects.filter(auth_domain__endswith=f".{scale.prefix_domain(prefix)}").order_by("pk")
    ApiToken.objects.bulk_create([
        ApiToken(name=f"Token {i}", key_id=f"{prefix}-{i}", secret_hash=hash_token(f"{prefix}-{i}"),
                 owner=owner, organization=org, scopes=["organizations:read"], created_at=clock.now())
        for i, org in enumerate(orgs[:n])])


def _delete_world(prefix: str):
    domain = scale.prefix_domain(prefix)
    orgs = Organization.objects.filter(auth_domain__endswith=f".{domain}")
    orgs.update(required_aaguids=None)  # protected: an organization's own list cannot go while it requires it
    orgs.delete()  # with their applications, policies, memberships, lists and tokens
    get_user_model().objects.filter(email__endswith=f"@{domain}").delete()  # devices, addresses, accounts
    Role.objects.filter(key__startswith=f"{prefix}-").delete()
    Connection.objects.filter(key__startswith=f"{prefix}-").delete()
    Group.objects.filter(name__startswith=f"{prefix} group").delete()
    SocialApp.objects.filter(provider_id__startswith=f"{prefix}-").delete()
    AuditEvent.objects.filter(Q(object_label__endswith=f"({prefix})") | Q(object_type="scale", object_id=prefix)).delete()


@pytest.fixture(scope="module", params=list(SIZES), ids=[f"{n} rows" for n in SIZES.values()])
def world(request, django_db_setup, django_db_blocker):
    """The size's rows, committed for the module's tests and deleted after them."""
    n = SIZES[request.param]
    prefix = f"t{n}"
    with django_db_blocker.unblock():
        try:
            scale.build(world_sizes(n), prefix=prefix)
            _api_tokens(n, prefix)
            yield request.param
        finally:
            _delete_world(prefix)


def _url(model, page: str) -> str | None:
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}"
    if page == "change":
        return reverse(info, args=[quote(scale.sample_object(model).pk)])
    try:
        return reverse(info)
    except NoReverseMatch:
        return None


def _shape(html: str) -> tuple[int, int]:
    """How many options and list items the page draws."""
    return len(re.findall(r"<option[\s>]", html)), len(re.findall(r"<li[\s>]", html))


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label_lower)
def test_every_registered_model_has_rows_to_show(world, model):
    assert scale.sample_object(model) is not None, (
        f"{model._meta.label} is registered in the admin but seed_scale writes no rows of it: add them to "
        "mfa_policies/demo/scale.py (build), so its pages are measured here and in bench/admin_pages.py")


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label_lower)
def test_the_page_runs_the_same_bounded_queries_at_both_sizes(world, model, page, admin_client,
                                                              django_assert_max_num_queries):
    if page == "change" and scale.sample_object(model) is None:
        pytest.fail(f"no {model._meta.label} row to open (see test_every_registered_model_has_rows_to_show)")
    url = _url(model, page)
    if url is None:
        pytest.skip(f"{model._meta.label} has no {page} page")
    admin_client.get(reverse("admin:index"))  # the in-process application table, loaded once per test
    ContentType.objects.clear_cache()  # as cold at both sizes (earlier tests warm it)
    with django_assert_max_num_queries(MAX_QUERIES) as captured:
        response = admin_client.get(url)
    if page == "add" and response.status_code == 403:
        pytest.skip(f"{model._meta.label} cannot be added in the admin")
    assert response.status_code in (200, 302), (url, response.status_code)
    html = response.content.decode()
    assert len(response.content) < MAX_PAGE_BYTES, f"{url}: {len(response.content)} bytes"
    measured = (len(captured), *_shape(html))
    key = (model._meta.label_lower, page)
    if world == "small":
        _measured[key] = measured
    elif key in _measured:
        queries, options, items = _measured[key]
        assert measured[0] == queries, f"{url}: {measured[0]} queries at {SIZES['large']} rows, {queries} at {SIZES['small']}"
        assert measured[1:] == (options, items), (
            f"{url}: {measured[1]} options and {measured[2]} list items at {SIZES['large']} rows, {options} and {items} "
            f"at {SIZES['small']} — a select or a filter lists every row")


def _big_app(make_org) -> Application:
    """An application with 2 000 attached policies (bulk-created)."""
    org = make_org("Big")
    app = Application.objects.create(organization=org, name="Big app")
    policies = Policy.objects.bulk_create([Policy(organization=org, name=f"Policy {i:04d}") for i in range(2_000)])
    AppPolicy.objects.bulk_create([AppPolicy(application=app, policy=p, precedence=i + 1) for i, p in enumerate(policies)])
    return app


def test_the_application_page_with_2000_attached_policies_is_bounded(admin_client, make_org,
                                                                       django_assert_max_num_queries):
    app = _big_app(make_org)
    admin_client.get(reverse("admin:index"))
    with django_assert_max_num_queries(MAX_QUERIES):
        response = admin_client.get(reverse("admin:mfa_policies_application_change", args=[app.pk]))
    assert response.status_code == 200
    assert len(response.content) < MAX_PAGE_BYTES, len(response.content)
    html = re.sub(r"\s+", " ", response.content.decode())
    assert "2000 attached policies; showing 1–50, page 1 of 40" in html
    assert html.count('class="field-policy"') == 51  # 50 rows and the empty row "Add another" copies


def test_the_delete_page_of_an_application_with_2000_attached_policies_is_bounded(
        admin_client, make_org, django_assert_max_num_queries):
    app = _big_app(make_org)
    admin_client.get(reverse("admin:index"))
    with django_assert_max_num_queries(MAX_QUERIES):
        response = admin_client.get(reverse("admin:mfa_policies_application_delete", args=[app.pk]))
    assert response.status_code == 200
    html = re.sub(r"\s+", " ", response.content.decode())
    assert "Attached policies: 2000" in html  # the summary counts every row
    assert html.count("Attached policy: Big app #") == 20 and "… and 1980 more attached policies" in html
    assert "Policy 0000" in html and "Policy 1999" not in html
