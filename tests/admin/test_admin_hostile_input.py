"""No 500 from any admin form (issue 8): hostile values are refused next to the field and write
nothing.

The first tests reproduce the 500s a hostile run of ~2 500 admin posts found. The last one walks
``admin.site._registry`` — so a model registered later is covered without anyone remembering to —
and, for every registered model's add form and the change form of an existing object, posts what
a browser would send from the page with one control replaced by a hostile value: deep nesting,
huge sizes, wrong types, unknown ids, NUL characters, unicode, several values where one goes.
Every control the page renders is attacked, inline management forms and inline rows included.

Each post runs in a savepoint and its SQL is captured. It must answer below 500; a refusal must
not have run a single INSERT, UPDATE or DELETE (the browser session's row aside), and the whole
database — every table's rows, hashed — is the same after the model's walk as before it. A post
may be accepted only where the value is legitimate (unicode text in a free-text field, anything
in a checkbox, which can only mean "on"); it is then rolled back so the next post starts from the
same state.
"""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mfa_policies.models import AppPolicy, Application, Membership, Policy
from tests.support.admin import field_errors, form_fields

DEEP = "[" * 5000 + "]" * 5000
MB = 1 << 20
UNICODE = "\u202eevil\u202c \U0001F389 e\u0301\u200f \u0661\u0662"  # RTL override, emoji, combining, Arabic digits

# What a hostile client types into a control, by the kind of control, and which of those values
# the control may legitimately accept (plain text is text, a checkbox can only mean "on"); every
# other value must be refused. "Several values" posts the page's own value and then a refused
# one: a single-valued field keeps the last.
TEXT = {
    "deep nesting": DEEP,
    "1 MB string": "x" * MB,
    "NUL": "a\x00b",
    "unicode": UNICODE,
}
TEXT_OK = {"deep nesting", "unicode"}
JSON = {
    "deep nesting": DEEP,
    "deep object": '{"a":' * 40 + "1" + "}" * 40,
    "nesting over the limit": '[[[[[["/a/"]]]]]]',
    "1 MB JSON string": '["/' + "a" * MB + '"]',
    "1 MB string": "x" * MB,
    "5 000 entries": json.dumps([f"/p{i}/" for i in range(5000)]),
    "5 000 rules": json.dumps([{"selector": "everyone", "value": ""}] * 5000),
    "object where a list goes": '{"selector": "everyone", "value": ""}',
    "number where a list goes": "1e309",
    "NaN": "NaN",
    "NUL": "a\x00b",
    "NUL in JSON": '["/a\\u0000b/"]',
    "NUL in a rule": '[{"selector": "email", "value": "a\\u0000@b.test"}]',
    "lone surrogate in JSON": '["/\\ud800/"]',
    "unicode": json.dumps([f"/{UNICODE}/"]),
}
# Any JSON field may hold these; the configuration's own fields refuse them by their rules, which
# the tests above and tests/mfa_policies/test_validation.py hold.
JSON_OK = {"nesting over the limit", "5 000 entries", "5 000 rules", "object where a list goes", "unicode"}
CHOICE = {
    "unknown id": "999999999",
    "huge number": "9" * 40,
    "unknown UUID": "00000000-0000-4000-8000-000000000000",
    "junk id": "junk-id",
    "NUL": "1\x00",
    "unicode": UNICODE,
    "1 MB string": "x" * MB,
}
NUMBER_OK = {"unknown id"}
CHECKBOX = {"junk": "junk-id", "NUL": "\x00"}
KINDS = {  # control kind → (payloads, the ones it may accept, the refused one "several values" ends with)
    "text": (TEXT, TEXT_OK, "NUL"), "email": (TEXT, TEXT_OK, "NUL"), "url": (TEXT, TEXT_OK, "NUL"),
    "password": (TEXT, TEXT_OK, "NUL"), "textarea": (TEXT, TEXT_OK, "NUL"), "json": (JSON, JSON_OK, "deep nesting"),
    "number": (CHOICE, NUMBER_OK, "junk id"), "hidden": (CHOICE, set(), "junk id"),
    "select": (CHOICE, set(), "junk id"), "select-multiple": (CHOICE, set(), "junk id"),
    "radio": (CHOICE, set(), "junk id"), "checkbox": (CHECKBOX, set(CHECKBOX), "junk"),
}
LIST_WHERE_ONE_GOES = "several values"
MAX_POSTS_PER_MODEL = 250  # ~25 ms each: the whole walk (~950 posts) stays near half a minute
IGNORED = ("-MIN_NUM_FORMS", "-MAX_NUM_FORMS",  # sent by the page, never read by Django
           "policies_q")  # the attached-policies search box: read on GET only (its own tests attack it)
# Controls whose value is (nearly) ignored — those and a field's hidden initial value — and the
# posts with every control at once get these alone.
SHORT = ("deep nesting", "1 MB string", "NUL", "unicode", "junk id", "huge number", "unknown UUID",
         "lone surrogate in JSON", "NUL in JSON", "5 000 rules")


def _kind(name: str, kinds: dict[str, str], data: dict[str, list[str]]) -> str:
    """The kind of control ``name`` is; ``initial-<field>`` (a field's hidden initial value) counts
    as its field, and a textarea holding a JSON list or object as ``json``."""
    base = name.removeprefix("initial-")
    kind = kinds.get(base, kinds[name])
    if kind == "textarea":
        try:
            value = data.get(base, [""])
            return "json" if isinstance(json.loads(value[0] if value else ""), (list, dict)) else "textarea"
        except ValueError:
            return "textarea"
    return kind if kind in KINDS else "text"


def _is_write(sql: str) -> bool:
    head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    return head in ("INSERT", "UPDATE", "DELETE", "REPLACE") and "django_session" not in sql


def database_snapshot() -> dict[str, tuple[int, str]]:
    """Every table of every installed model (many-to-many tables included), sessions aside: its
    row count and a hash of its rows."""
    snapshot = {}
    for model in apps.get_models(include_auto_created=True):
        table = model._meta.db_table
        if table == "django_session" or not model._meta.managed:
            continue
        rows = sorted(repr(row) for row in model._base_manager.order_by().values_list())
        snapshot[table] = (len(rows), hashlib.sha256("\n".join(rows).encode("utf-8", "surrogatepass")).hexdigest())
    return snapshot


class Walk:
    """Posts to admin pages, each in a savepoint, recording what went wrong."""

    def __init__(self, client):
        self.client = client
        self.client.raise_request_exception = False
        self.posts = 0
        self.problems: list[str] = []

    def post(self, url: str, data: dict, *, what: str, legitimate: bool) -> None:
        self.posts += 1
        with transaction.atomic():
            with CaptureQueriesContext(connection) as queries:
                response = self.client.post(url, data)
            status, location = response.status_code, response.get("Location", "")
            accepted = status in (301, 302, 303) and "/login/" not in location and "/mfa/" not in location
            writes = [q["sql"][:200] for q in queries.captured_queries if _is_write(q["sql"])]
            if status >= 500:
                self.problems.append(f"{what}: {status}")
            elif status in (301, 302, 303) and not accepted:
                self.problems.append(f"{what}: the post signed the admin out ({location})")
            elif accepted and not legitimate:
                self.problems.append(f"{what}: accepted")
            elif not accepted and writes:
                self.problems.append(f"{what}: refused with {status} but wrote {writes[:3]}")
            if accepted or status >= 500:
                transaction.set_rollback(True)
        if accepted:
            cache.clear()  # a rolled-back change may have mirrored a generation into the cache

    def attack(self, url: str, *, label: str, baseline_accepted: bool, attacked: set[str]) -> None:
        """The page at ``url``: every control not in ``attacked`` yet (the names attacked on another
        page of the model), one at a time, with every payload for its kind; then, when some were
        attacked before, per payload every control at once. The names attacked join ``attacked``."""
        page = self.client.get(url)
        if page.status_code != 200:  # e.g. no add permission: one hostile post must still be refused cleanly
            self.post(url, {"name": "\x00" + "x" * 1000}, what=f"{label} (GET {page.status_code})", legitimate=False)
            return
        data, kinds = form_fields(page.content.decode())
        if baseline_accepted:
            self.post(url, data, what=f"{label} as shown", legitimate=True)
        controls = {name: (KINDS[_kind(name, kinds, data)],
                           name.startswith("initial-") or name.endswith(IGNORED)) for name in kinds}
        seen_before = bool(controls.keys() & attacked)
        for name, ((payloads, ok, refused), ignored) in controls.items():
            if name in attacked or _inline_row(name) > 0:
                continue  # rows after the first render the same controls; the first one stands for them
            for payload_name, payload in payloads.items():
                if ignored and payload_name not in SHORT:
                    continue
                self.post(url, {**data, name: payload}, what=f"{label} {name}={payload_name}",
                          legitimate=ignored or payload_name in ok)
            self.post(url, {**data, name: [*data.get(name, [])[:1], payloads[refused]]},
                      what=f"{label} {name}={LIST_WHERE_ONE_GOES}", legitimate=ignored or refused in ok)
            attacked.add(name)
        for payload_name in SHORT if seen_before else ():
            everything, legitimate = dict(data), True
            for name, ((payloads, ok, refused), ignored) in controls.items():
                chosen = payload_name if payload_name in payloads else refused
                everything[name] = payloads[chosen]
                legitimate &= ignored or chosen in ok
            self.post(url, everything, what=f"{label} every control={payload_name}", legitimate=legitimate)


def _inline_row(name: str) -> int:
    """The row number of an inline control (``app_policies-2-precedence`` → 2), -1 for others."""
    parts = name.split("-")
    return int(parts[1]) if len(parts) >= 3 and parts[1].isdigit() else -1


@pytest.fixture
def every_kind_of_object(demo_admin_client, demo, make_user):
    """The demo, plus one row of every model the admin may show that the demo does not create."""
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
    from django.contrib.auth.models import Group, Permission

    from api.models import ApiToken
    from api.services import api_token_create
    from mfa_policies.models import AaguidList
    from mfa_policies.services import aaguid_list_save

    admin_user = get_user_model().objects.get(email="admin@demo.test")
    group = Group.objects.create(name="Auditors")
    group.permissions.set(Permission.objects.filter(codename__startswith="view_")[:3])
    app = SocialApp.objects.create(provider="openid_connect", provider_id="corp", name="Corp IdP", client_id="client",
                                   secret="secret", settings={"server_url": "https://idp.example"})
    account = SocialAccount.objects.create(user=make_user("sso@demo.test"), provider="corp", uid="sso-1",
                                           extra_data={"sub": "sso-1"})
    SocialToken.objects.create(app=app, account=account, token="token")
    EmailAddress.objects.create(user=admin_user, email=admin_user.email, verified=True, primary=True)
    api_token_create(acting_user=admin_user, token=ApiToken(name="CI", owner=admin_user, organization=demo,
                                                             scopes=["organizations:read"]))
    aaguid_list_save(acting_user=admin_user, aaguid_list=AaguidList(organization=demo, name="Keys"),
                     items=[("8c39ee867f9a4a959ba3f6b097e5c2ee", "YubiKey Bio Series")])
    return demo


@pytest.fixture
def uninstrumented_templates(monkeypatch):
    """Templates rendered as in production: the test environment's instrumented render copies every
    template's context for ``response.context`` (a select of 300 options is 300 copies), which the
    walk never reads and which would be most of its time."""
    from django.template.base import Template
    from django.test.utils import _TestState

    monkeypatch.setattr(Template, "_render", _TestState.saved_data.template_render)


def _existing(model, acting_user):
    queryset = model._default_manager.order_by("pk")
    if model is get_user_model():
        queryset = queryset.exclude(pk=acting_user.pk)  # attacking one's own account would sign the walk out
    if model is Application:
        queryset = queryset.filter(name="Application A")  # the one with attached policies (an inline with rows)
    return queryset.first()


def _registered():
    return sorted(admin.site._registry.items(), key=lambda pair: pair[0]._meta.label)


# --------------------------------------------------------------------------- the 500s found


def _policy_form(policy, **changes):
    return {"organization": str(policy.organization_id), "name": policy.name, "decision": policy.decision,
            "include": json.dumps(policy.include), "require": json.dumps(policy.require),
            "exclude": json.dumps(policy.exclude), "mfa_mode": policy.mfa_mode,
            "mfa_allowed_authenticators": policy.mfa_allowed_authenticators,
            "mfa_session_duration": policy.mfa_session_duration, **changes}


def _application_form(app, rows=(), **changes):
    data = {"organization": str(app.organization_id), "name": app.name, "path_prefixes": json.dumps(app.path_prefixes),
            "session_duration": app.session_duration, "mfa_mode": app.mfa_mode,
            "mfa_allowed_authenticators": app.mfa_allowed_authenticators,
            "mfa_session_duration": app.mfa_session_duration,
            "app_policies-TOTAL_FORMS": str(len(rows)), "app_policies-INITIAL_FORMS": "0",
            "app_policies-MIN_NUM_FORMS": "0", "app_policies-MAX_NUM_FORMS": "1000"}
    for index, row in enumerate(rows):
        data.update({f"app_policies-{index}-{key}": value for key, value in row.items()})
    return {**data, **changes}


@pytest.mark.parametrize("field", ["include", "require", "exclude"])
def test_deeply_nested_json_in_a_rule_list_is_a_field_error(demo_admin_client, demo, field):
    policy = Policy.objects.get(name="Everyone")
    before = database_snapshot()
    response = demo_admin_client.post(f"/admin/mfa_policies/policy/{policy.pk}/change/",
                                      _policy_form(policy, **{field: DEEP}))
    assert response.status_code == 200
    assert "nested too deeply" in field_errors(response, field)
    assert database_snapshot() == before


def test_deeply_nested_path_prefixes_are_a_field_error(demo_admin_client, demo):
    app = Application.objects.get(name="Application B")
    before = database_snapshot()
    response = demo_admin_client.post(f"/admin/mfa_policies/application/{app.pk}/change/",
                                      _application_form(app, path_prefixes=DEEP))
    assert response.status_code == 200
    assert "nested too deeply" in field_errors(response, "path_prefixes")
    assert database_snapshot() == before


def test_a_user_that_is_not_a_uuid_on_the_membership_form_is_a_field_error(demo_admin_client, demo):
    before = database_snapshot()
    response = demo_admin_client.post("/admin/mfa_policies/membership/add/",
                                      {"user": "not-a-uuid", "organization": str(demo.pk)})
    assert response.status_code == 200
    assert "Select a valid choice" in field_errors(response, "user")
    assert database_snapshot() == before


def test_an_unknown_user_on_the_membership_form_is_a_field_error(demo_admin_client, demo):
    response = demo_admin_client.post("/admin/mfa_policies/membership/add/", {
        "user": "00000000-0000-4000-8000-000000000000", "organization": str(demo.pk)})
    assert response.status_code == 200 and "Select a valid choice" in field_errors(response, "user")
    assert Membership.objects.count() == 5


@pytest.mark.parametrize("junk", ["junk", "9" * 40, "-1", "1\x00"])
def test_a_junk_policy_id_in_the_applications_inline_is_a_field_error(demo_admin_client, demo, junk):
    app = Application.objects.get(name="Application B")
    before = database_snapshot()
    response = demo_admin_client.post(f"/admin/mfa_policies/application/{app.pk}/change/",
                                      _application_form(app, rows=[{"policy": junk, "precedence": "5"}]))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode() or "valid" in response.content.decode()
    assert database_snapshot() == before
    assert AppPolicy.objects.filter(application=app).count() == 1


@pytest.mark.parametrize("value, words", [
    ('["/a\\u0000b/"]', "NUL"),
    ('["/\\ud800/"]', "Unicode"),
])
def test_a_path_prefix_the_database_cannot_store_is_a_field_error(demo_admin_client, demo, value, words):
    """PostgreSQL refuses NUL in text and jsonb; no database stores a lone surrogate."""
    app = Application.objects.get(name="Application B")
    before = database_snapshot()
    response = demo_admin_client.post(f"/admin/mfa_policies/application/{app.pk}/change/",
                                      _application_form(app, path_prefixes=value))
    assert response.status_code == 200
    assert words in field_errors(response, "path_prefixes")
    assert database_snapshot() == before


# --------------------------------------------------------------------------- every form


@pytest.mark.parametrize("model_admin", [pair[1] for pair in _registered()], ids=[pair[0]._meta.label for pair in _registered()])
def test_every_admin_form_refuses_hostile_input_without_a_500(demo_admin_client, every_kind_of_object,
                                                              uninstrumented_templates, model_admin):
    model = model_admin.model
    acting_user = get_user_model().objects.get(email="admin@demo.test")
    opts = model._meta
    walk = Walk(demo_admin_client)
    before = database_snapshot()
    started = time.monotonic()

    obj = _existing(model, acting_user)
    assert obj is not None, (f"{opts.label} is registered in the admin but the fixture creates none: add one to "
                             "every_kind_of_object so its change form is attacked too")
    attacked: set[str] = set()
    # The change form first: its page is valid as shown, so a hostile value reaches the model's rules
    # and the database; the add form's own controls follow (an empty add form stops at the fields).
    walk.attack(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]),
                label=f"{opts.label} change", baseline_accepted=True, attacked=attacked)
    walk.attack(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"), label=f"{opts.label} add",
                baseline_accepted=False, attacked=attacked)

    assert not walk.problems, f"{len(walk.problems)} of {walk.posts} posts went wrong:\n" + "\n".join(walk.problems[:40])
    assert walk.posts <= MAX_POSTS_PER_MODEL, "bounded: attack fewer controls or payloads, or raise the bound knowingly"
    assert database_snapshot() == before
    assert demo_admin_client.get("/admin/").status_code == 200  # still signed in: the walk attacked what it meant to
    print(f"{opts.label}: {walk.posts} posts in {time.monotonic() - started:.1f}s")


def test_tampered_inline_counts_are_refused_and_keep_every_row(demo_admin_client, every_kind_of_object):
    """A negative total would leave the entries out of a save that rebuilds the whole list."""
    from mfa_policies.models import AaguidItem, AaguidList

    aaguid_list = AaguidList.objects.get(name="Keys")
    item = aaguid_list.items.get()
    url = f"/admin/mfa_policies/aaguidlist/{aaguid_list.pk}/change/"
    rows = {"items-0-id": str(item.pk), "items-0-aaguid_list": str(aaguid_list.pk), "items-0-value": item.value,
            "items-0-description": item.description}
    base = {"organization": str(aaguid_list.organization_id), "name": "Keys", "description": "",
            "items-MIN_NUM_FORMS": "0", "items-MAX_NUM_FORMS": "1000", **rows}
    for total, initial in (("-1", "1"), ("1", "-1"), ("0", "0"), ("1", "5"), ("202", "1"), ("100000", "1")):
        response = demo_admin_client.post(url, {**base, "items-TOTAL_FORMS": total, "items-INITIAL_FORMS": initial})
        assert response.status_code == 200, (total, initial)
        words = "Please submit at most" if total == "100000" else "The rows sent do not match the rows of this page"
        assert words in response.content.decode(), (total, initial)  # Django's own words beyond its absolute maximum
        assert list(AaguidItem.objects.filter(aaguid_list=aaguid_list)) == [item]
    response = demo_admin_client.post(url, {**base, "items-TOTAL_FORMS": "1", "items-INITIAL_FORMS": "1"})
    assert response.status_code == 302  # the counts of the page itself


def test_an_id_too_large_for_the_column_is_a_field_error(demo_admin_client, demo):
    from tests.support.admin import org_form

    before = database_snapshot()
    response = demo_admin_client.post(f"/admin/mfa_policies/organization/{demo.pk}/change/",
                                      org_form(demo, exempt_roles=["9" * 40]))
    assert response.status_code == 200
    assert "is not a valid value" in field_errors(response, "exempt_roles")
    assert database_snapshot() == before


def test_a_model_admin_registered_later_refuses_hostile_input_too():
    """The site puts the mixin on whatever is registered, third-party admins included."""
    from django.contrib.auth.models import Group

    from mfa_policies.admin.safe_input import HostileInputMixin
    from mfa_policies.admin.site import MfagateAdminSite

    class LaterAdmin(admin.ModelAdmin):
        pass

    site = MfagateAdminSite(name="later")
    site.register(Group, LaterAdmin)
    assert isinstance(site._registry[Group], HostileInputMixin) and isinstance(site._registry[Group], LaterAdmin)
    assert all(isinstance(model_admin, HostileInputMixin) for model_admin in admin.site._registry.values())


@pytest.mark.parametrize("url", [
    "/admin/autocomplete/?app_label=mfa_policies&model_name=apppolicy&field_name=policy&term=%00",
    "/admin/autocomplete/?app_label=mfa_policies&model_name=membership&field_name=user&term=a%00",
    "/admin/mfa_policies/policy/?q=%00",
])
def test_a_search_for_a_nul_character_finds_nothing(demo_admin_client, demo, url):
    """PostgreSQL refuses NUL in text; the search answers without asking it."""
    response = demo_admin_client.get(url)
    assert response.status_code == 200
    if "autocomplete" in url:
        assert response.json()["results"] == []
