"""No side doors: for every model registered in the admin — ours and third-party — add, change,
delete, every bulk action and every inline each leave an audit row, posted as a browser would
(the page's own form, with its current values); a model the console only shows refuses writes.

Generic: the tests walk ``admin.site._registry``. A model registered later fails
``test_every_registered_model_has_a_sample`` until it gets a sample here, so it cannot slip through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import AuditEvent
from tests.support.html_forms import form_fields

PASSWORD = "a long test password 42"


@dataclass
class World:
    """Rows the samples point at."""

    org: object
    other_org: object
    user: object
    staff: object
    role: object
    policy: object


@dataclass
class Sample:
    make: Callable[[World], object] | None = None          # an existing row to change, delete, act on
    add: Callable[[World], dict] | None = None              # fields typed into the add form
    change: Callable[[World], dict] | None = None           # fields changed on the change form
    inline_rows: dict[str, Callable[[World, object], dict]] = field(default_factory=dict)


def _user(world):
    from accounts.models import User
    return User.objects.create_user(f"someone-{User.objects.count()}@example.test", PASSWORD)


def _audit_event(world):
    from accounts.audit import audit_record
    with transaction.atomic():
        return audit_record(actor=None, action="probe", object_type="x")


def _token(world):
    from api.models import ApiToken
    from api.services import api_token_create
    token, _ = api_token_create(acting_user=None, token=ApiToken(
        name="probe", owner=world.staff, organization=world.org, scopes=["users:read"]))
    return token


def _social_app(world):
    from allauth.socialaccount.models import SocialApp
    return SocialApp.objects.create(provider="openid_connect", provider_id=f"idp{SocialApp.objects.count()}",
                                    name="IdP", client_id="client", secret="s3cret-value",
                                    settings={"server_url": "http://127.0.0.1:9/"})


def _membership(world):
    from mfa_policies.models import Membership
    return Membership.objects.create(user=_user(world), organization=world.org)


def _app(world):
    from mfa_policies.models import Application
    return Application.objects.create(organization=world.org, name=f"App {Application.objects.count()}",
                                      path_prefixes=[f"/probe{Application.objects.count()}/"])


def _policy(world):
    from mfa_policies.models import Policy
    return Policy.objects.create(organization=world.org, name=f"Policy {Policy.objects.count()}",
                                 include=[{"selector": "everyone", "value": ""}])


def _aaguid_list(world):
    from mfa_policies.models import AaguidList
    return AaguidList.objects.create(organization=world.org, name=f"List {AaguidList.objects.count()}")


def _org(world):
    from mfa_policies.models import Organization
    return Organization.objects.create(name=f"Org {Organization.objects.count()}")


def _role(world):
    from mfa_policies.models import Role
    return Role.objects.create(key=f"role{Role.objects.count()}", name="Role")


def _connection(world):
    from mfa_policies import constants as c
    from mfa_policies.models import Connection
    return Connection.objects.create(key=f"conn{Connection.objects.count()}", name="Conn", kind=c.CONNECTION_OIDC)


def _group(world):
    from django.contrib.auth.models import Group
    return Group.objects.create(name=f"Group {Group.objects.count()}")


def _email_address(world):
    from allauth.account.models import EmailAddress
    user = _user(world)
    return EmailAddress.objects.create(user=user, email=user.email, primary=True)


def _social_account(world):
    from allauth.socialaccount.models import SocialAccount
    return SocialAccount.objects.create(user=_user(world), provider="openid_connect", uid="uid-1")


def _environment(world):
    from mfa_policies.models import Environment
    return Environment.load()


SAMPLES: dict[str, Sample] = {
    "accounts.user": Sample(
        make=_user,
        add=lambda w: {"email": "new@example.test", "password1": PASSWORD, "password2": PASSWORD},
        change=lambda w: {"name": "Changed Name", "is_staff": "on"}),
    "accounts.auditevent": Sample(make=_audit_event),
    "auth.group": Sample(make=_group, add=lambda w: {"name": "Auditors"}, change=lambda w: {"name": "Renamed"}),
    "account.emailaddress": Sample(make=_email_address),
    "socialaccount.socialaccount": Sample(make=_social_account),
    "socialaccount.socialapp": Sample(
        make=_social_app,
        add=lambda w: {"provider": "openid_connect", "provider_id": "corp", "name": "Corp", "client_id": "cid",
                       "secret": "brand-new-secret", "settings": '{"server_url": "http://127.0.0.1:9/"}'},
        change=lambda w: {"name": "Corp renamed"}),
    "api.apitoken": Sample(
        make=_token,
        add=lambda w: {"name": "Script", "owner": str(w.staff.pk), "organization": str(w.org.pk),
                       "scopes": ["users:read"]}),
    "mfa_policies.environment": Sample(make=_environment, change=lambda w: {"mfa_requirement": "optional"}),
    "mfa_policies.organization": Sample(make=_org, add=lambda w: {"name": "New org"},
                                        change=lambda w: {"session_duration": "12h"}),
    "mfa_policies.application": Sample(
        make=_app,
        add=lambda w: {"organization": str(w.org.pk), "name": "New app", "path_prefixes": '["/new/"]',
                       "session_duration": "8h", "mfa_mode": "inherit"},
        change=lambda w: {"session_duration": "2h"},
        inline_rows={"mfa_policies.apppolicy": lambda w, app: {"policy": str(w.policy.pk), "precedence": "7"}}),
    "mfa_policies.policy": Sample(
        make=_policy,
        add=lambda w: {"organization": str(w.org.pk), "name": "New policy", "decision": "allow",
                       "include": '[{"selector": "everyone", "value": ""}]', "mfa_mode": "inherit"},
        change=lambda w: {"name": "Renamed policy"}),
    "mfa_policies.aaguidlist": Sample(
        make=_aaguid_list,
        add=lambda w: {"organization": str(w.org.pk), "name": "Approved keys"},
        change=lambda w: {"description": "changed"},
        inline_rows={"mfa_policies.aaguiditem": lambda w, lst: {"value": "8c39ee867f9a4a959ba3f6b097e5c2ee",
                                                                "description": "YubiKey"}}),
    "mfa_policies.role": Sample(make=_role, add=lambda w: {"key": "auditor", "name": "Auditor"},
                                change=lambda w: {"name": "Renamed role"}),
    "mfa_policies.connection": Sample(make=_connection, add=lambda w: {"key": "corp", "name": "Corp", "kind": "oidc"},
                                      change=lambda w: {"name": "Renamed connection"}),
    "mfa_policies.membership": Sample(
        make=_membership,
        add=lambda w: {"user": str(w.user.pk), "organization": str(w.org.pk), "roles": [str(w.role.pk)]},
        change=lambda w: {"roles": [str(w.role.pk)]}),
}

REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label_lower)
LABELS = [m._meta.label_lower for m in REGISTERED]


@pytest.fixture
def world(db, django_user_model):
    from mfa_policies.models import Organization, Policy, Role

    org = Organization.objects.create(name="Probe org", allowed_authenticators=["totp"])
    return World(org=org, other_org=Organization.objects.create(name="Other org"),
                 user=django_user_model.objects.create_user("member@example.test", PASSWORD),
                 staff=django_user_model.objects.create_user("staff@example.test", PASSWORD, is_staff=True),
                 role=Role.objects.create(key="viewer", name="Viewer"),
                 policy=Policy.objects.create(organization=org, name="Everyone",
                                              include=[{"selector": "everyone", "value": ""}]))


def _admin_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _post_form(client, url, changes: dict, form_id: str | None = None):
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    data = form_fields(page.content.decode(), form_id)
    data.pop("_addanother", None), data.pop("_continue", None), data.pop("_saveasnew", None)
    for name, value in changes.items():
        data[name] = value if isinstance(value, list) else [value]
    data["_save"] = ["Save"]
    return client.post(url, data)


def _errors(response) -> str:
    context = getattr(response, "context", None) or {}
    adminform = context.get("adminform") if hasattr(context, "get") else None
    errors = adminform.form.errors if adminform is not None else {}
    inlines = [f.errors for f in context.get("inline_admin_formsets", [])] if hasattr(context, "get") else []
    return f"{response.status_code}: {dict(errors)} {inlines}"


def _audited(before: int) -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True)[before:])


def _model(label):
    return next(m for m in REGISTERED if m._meta.label_lower == label)


def test_every_registered_model_has_a_sample():
    missing = [label for label in LABELS if label not in SAMPLES]
    assert not missing, (f"models registered in the admin without a sample in {__file__}: {missing}. Every admin "
                         "write must go through an audited service; add a sample so this test proves it.")


def test_no_secret_revealing_admin_is_registered():
    from allauth.socialaccount.models import SocialToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    assert not admin.site.is_registered(TOTPDevice), "django-otp's admin shows every TOTP secret"
    assert not admin.site.is_registered(SocialToken), "allauth's token admin shows the IdPs' access tokens"


@pytest.mark.parametrize("label", LABELS)
def test_adding_through_the_admin_leaves_an_audit_row(label, admin_client, admin_user, world):
    model, sample = _model(label), SAMPLES.get(label)
    model_admin = admin.site._registry[model]
    if not model_admin.has_add_permission(_admin_request(admin_user)):
        assert admin_client.post(_url(model, "add"), {}).status_code == 403
        return
    assert sample and sample.add, f"{label}: the admin can add; give the sample its add fields"
    before = AuditEvent.objects.count()
    response = _post_form(admin_client, _url(model, "add"), sample.add(world), f"{model._meta.model_name}_form")
    assert response.status_code == 302, _errors(response)
    assert _audited(before), f"{label}: added through the admin without an audit row"


@pytest.mark.parametrize("label", LABELS)
def test_changing_through_the_admin_leaves_an_audit_row(label, admin_client, admin_user, world):
    model, sample = _model(label), SAMPLES[label]
    obj = sample.make(world)
    model_admin = admin.site._registry[model]
    url = _url(model, "change", obj.pk)
    before = AuditEvent.objects.count()
    if not model_admin.has_change_permission(_admin_request(admin_user), obj):
        response = admin_client.post(url, form_fields(admin_client.get(url).content.decode()))
        assert response.status_code == 403 and _audited(before) == [], f"{label} is read-only, yet accepted a POST"
        return
    if sample.change is None:  # nothing on this page is editable (e.g. an API token: revoke it instead)
        data = form_fields(admin_client.get(url).content.decode(), f"{model._meta.model_name}_form")
        assert set(data) <= {"csrfmiddlewaretoken"}, f"{label}: editable fields {sorted(data)} but no change sample"
        return
    response = _post_form(admin_client, url, sample.change(world), f"{model._meta.model_name}_form")
    assert response.status_code == 302, _errors(response)
    assert _audited(before), f"{label}: changed through the admin without an audit row"


@pytest.mark.parametrize("label", LABELS)
def test_deleting_through_the_admin_leaves_an_audit_row(label, admin_client, admin_user, world):
    model, sample = _model(label), SAMPLES[label]
    obj = sample.make(world)
    before = AuditEvent.objects.count()
    response = admin_client.post(_url(model, "delete", obj.pk), {"post": "yes"})
    if not admin.site._registry[model].has_delete_permission(_admin_request(admin_user), obj):
        assert response.status_code == 403 and model.objects.filter(pk=obj.pk).exists()
        return
    assert response.status_code == 302, _errors(response)
    assert not model.objects.filter(pk=obj.pk).exists()
    assert _audited(before), f"{label}: deleted through the admin without an audit row"


@pytest.mark.parametrize("label", LABELS)
def test_every_bulk_action_leaves_an_audit_row(label, admin_client, admin_user, world):
    model, sample = _model(label), SAMPLES[label]
    actions = admin.site._registry[model].get_actions(_admin_request(admin_user))
    for name in actions:
        obj = sample.make(world)
        before = AuditEvent.objects.count()
        response = admin_client.post(_url(model, "changelist"),
                                     {"action": name, "_selected_action": [str(obj.pk)], "index": "0", "post": "yes"})
        assert response.status_code in (200, 302), (name, response.status_code)
        assert _audited(before), f"{label}: bulk action {name} wrote without an audit row"


@pytest.mark.parametrize("label", LABELS)
def test_every_inline_row_leaves_an_audit_row(label, admin_client, admin_user, world):
    model, sample = _model(label), SAMPLES[label]
    obj = sample.make(world)
    model_admin = admin.site._registry[model]
    request = _admin_request(admin_user)
    for inline in model_admin.get_inline_instances(request, obj):
        inline_label = inline.model._meta.label_lower
        assert inline_label in sample.inline_rows, f"{label}: inline {inline_label} has no sample row"
        url = _url(model, "change", obj.pk)
        data = form_fields(admin_client.get(url).content.decode(), f"{model._meta.model_name}_form")
        prefix = inline.get_formset(request, obj).get_default_prefix()
        index = int(data[f"{prefix}-TOTAL_FORMS"][0])
        # An extra blank row the page showed stays blank; the new row goes after it.
        data[f"{prefix}-TOTAL_FORMS"] = [str(index + 1)]
        for name, value in sample.inline_rows[inline_label](world, obj).items():
            data[f"{prefix}-{index}-{name}"] = [value]
        data["_save"] = ["Save"]
        before = AuditEvent.objects.count()
        response = admin_client.post(url, data)
        assert response.status_code == 302, _errors(response)
        assert _audited(before), f"{label}: inline {inline_label} row saved without an audit row"
