"""The REST API of spec §6: thin views — parse, one service call, envelope.

Lists are paginated (:mod:`api.pagination`) and read each page in a fixed number of queries,
whatever the page size or the account's size (tests/api/test_api_queries.py holds the counts).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from accounts.models import User
from enrollment.flows import authenticator_delete_by_admin
from enrollment.models import Authenticator
from mfa_policies.models import AaguidList, AppPolicy, Application, Membership, Policy
from mfa_policies.services import (
    aaguid_list_delete,
    aaguid_list_save,
    application_save,
    configuration_delete,
    configuration_save,
    policy_attach,
)

from . import envelope, openapi
from . import scopes as s
from . import serializers as ser
from .auth import endpoint, ip_address
from .envelope import ApiError, ok, parse_body
from .pagination import page_of
from .services import stored_fields_by, stored_fields_of, stored_fields_save


def _saving(rename=None):
    """Turn the service's ``ValidationError`` into a 400 naming the API's fields."""

    class _Guard:
        def __enter__(self):
            return self

        def __exit__(self, exc_type, exc, tb):
            if exc_type is not None and issubclass(exc_type, ValidationError):
                raise envelope.from_validation_error(exc, rename) from None
            return False

    return _Guard()


def _paged(request, queryset, total_of=None):
    """This page's rows of ``queryset`` and the ``result_info`` for it (two queries). ``total_of``:
    a cheaper queryset counting the same rows."""
    page = page_of(request)
    total = (total_of if total_of is not None else queryset).count()
    rows = list(page.slice(queryset)) if page.offset < total else []
    return rows, lambda count: page.result_info(count, total)


# ------------------------------------------------------------------------------ organizations
@endpoint(GET=s.READ_ORGANIZATIONS, PUT=s.WRITE_ORGANIZATIONS)
def organizations(request, token):
    org = token.organization
    stored = stored_fields_of(org)
    if request.method == "PUT":
        fields, m2m, extras = ser.organization_from_body(parse_body(request), org, stored)
        for name, value in fields.items():
            setattr(org, name, value)
        with _saving(ser.ORGANIZATION_RENAME), transaction.atomic():
            configuration_save(acting_user=token.owner, instance=org, m2m=m2m, ip_address=ip_address(request))
            stored = stored_fields_save(acting_user=token.owner, instance=org, extras=extras,
                                        ip_address=ip_address(request))
    return ok(ser.organization(org, stored))


# ------------------------------------------------------------------------------ AAGUID lists
def _list(token, list_id) -> AaguidList:
    obj = AaguidList.objects.filter(organization=token.organization, pk=envelope.parse_uuid("list_id", list_id)).first()
    if obj is None:
        raise envelope.not_found("No AAGUID list with that id in this account.")
    return obj


def _save_list(request, token, obj, items, extras):
    with _saving(), transaction.atomic():
        aaguid_list_save(acting_user=token.owner, aaguid_list=obj, items=items, ip_address=ip_address(request))
        return stored_fields_save(acting_user=token.owner, instance=obj, extras=extras, ip_address=ip_address(request))


@endpoint(GET=s.READ_ORGANIZATIONS, POST=s.WRITE_ORGANIZATIONS)
def aaguid_lists(request, token):
    if request.method == "POST":
        fields, items, extras = ser.aaguid_list_from_body(parse_body(request))
        obj = AaguidList(organization=token.organization, **fields)
        stored = _save_list(request, token, obj, items, extras)
        return ok(ser.aaguid_list(obj, stored))
    lists, info = _paged(request, AaguidList.objects.filter(organization=token.organization)
                         .order_by("name", "id").prefetch_related("items"))
    stored = stored_fields_by("aaguidlist", [obj.pk for obj in lists])
    return ok([ser.aaguid_list(obj, stored.get(obj.pk)) for obj in lists], info(len(lists)))


@endpoint(GET=s.READ_ORGANIZATIONS, PUT=s.WRITE_ORGANIZATIONS, PATCH=s.WRITE_ORGANIZATIONS,
          DELETE=s.WRITE_ORGANIZATIONS)
def aaguid_list_detail(request, token, list_id):
    obj = _list(token, list_id)
    stored = stored_fields_of(obj)
    if request.method == "GET":
        return ok(ser.aaguid_list(obj, stored))
    if request.method == "DELETE":
        deleted = str(obj.id)  # a deleted instance has no primary key
        with _saving():
            aaguid_list_delete(acting_user=token.owner, aaguid_list=obj, ip_address=ip_address(request))
        return ok({"id": deleted})
    if request.method == "PUT":
        fields, items, extras = ser.aaguid_list_from_body(parse_body(request))
        for name, value in fields.items():
            setattr(obj, name, value)
    else:
        items, extras = ser.aaguid_list_patch_from_body(parse_body(request), obj, stored)
    stored = _save_list(request, token, obj, items, extras)
    return ok(ser.aaguid_list(obj, stored))


@endpoint(GET=s.READ_ORGANIZATIONS)
def aaguid_list_items(request, token, list_id):
    """A list's items, paginated, in the order they were sent (a list is bounded by its bodies)."""
    obj = _list(token, list_id)
    items = ser.ordered_items(obj.items.all(), stored_fields_of(obj))
    page = page_of(request)
    rows = items[page.offset:page.offset + page.per_page]
    return ok([ser.aaguid_item(item) for item in rows], page.result_info(len(rows), len(items)))


# ------------------------------------------------------------------------------ users
def _member(token, user_id) -> User:
    member = (User.objects.filter(pk=envelope.parse_uuid("user_id", user_id),
                                  memberships__organization=token.organization).first())
    if member is None:
        raise envelope.not_found("No user with that id in this account.")
    return member


def _authenticator_counts(user_ids) -> dict:
    return dict(Authenticator.objects.filter(user_id__in=list(user_ids)).values("user_id")
                .annotate(n=Count("id")).values_list("user_id", "n"))


@endpoint(GET=s.READ_USERS)
def users(request, token):
    """Members by email. ``email`` matches one address exactly (case aside: addresses are stored in
    lower case) — never a prefix or a part — so a script acting on ``result[0]`` acts on that user
    or on nobody; ``name`` matches a name exactly, case aside; ``search`` finds a part of either."""
    members = User.objects.filter(memberships__organization=token.organization)
    # Unfiltered, the memberships alone count the members (one per user and organization): an
    # index scan instead of a join over every user.
    total_of = Membership.objects.filter(organization=token.organization)
    email, name, search = (request.GET.get(key) for key in ("email", "name", "search"))
    if email is not None or name is not None or search:
        total_of = None
    if email is not None:
        members = members.filter(email=email.strip().lower())
    if name is not None:
        members = members.filter(name__iexact=name.strip())
    if search:
        members = members.filter(Q(email__icontains=search.strip()) | Q(name__icontains=search.strip()))
    rows, info = _paged(request, members.order_by("email").only("id", "email", "name"), total_of)
    counts = _authenticator_counts(member.pk for member in rows)
    return ok([ser.user(member, counts.get(member.pk, 0)) for member in rows], info(len(rows)))


@endpoint(GET=s.READ_USERS)
def user_detail(request, token, user_id):
    member = _member(token, user_id)
    return ok(ser.user(member, _authenticator_counts([member.pk]).get(member.pk, 0)))


@endpoint(GET=s.READ_USERS)
def user_authenticators(request, token, user_id):
    member = _member(token, user_id)
    rows, info = _paged(request, Authenticator.objects.filter(user=member).order_by("created_at", "id"))
    return ok([ser.authenticator(a) for a in rows], info(len(rows)))


@endpoint(DELETE=s.REVOKE_USERS)
def user_authenticator_detail(request, token, user_id, authenticator_id):
    member = _member(token, user_id)
    pk = envelope.parse_uuid("authenticator_id", authenticator_id)
    if not Authenticator.objects.filter(pk=pk, user=member).exists():
        raise envelope.not_found("No MFA device with that id for this user.")
    authenticator_delete_by_admin(request=request, acting_user=token.owner, authenticator_id=pk)
    return ok({"id": str(pk)})


# ------------------------------------------------------------------------------ apps and policies
def _app(token, app_id) -> Application:
    app = Application.objects.filter(organization=token.organization,
                                     public_id=envelope.parse_uuid("app_id", app_id)).first()
    if app is None:
        raise envelope.not_found("No application with that id in this account.")
    return app


def _policy(token, policy_id) -> Policy:
    policy = Policy.objects.filter(organization=token.organization,
                                   public_id=envelope.parse_uuid("policy_id", policy_id)).first()
    if policy is None:
        raise envelope.not_found("No policy with that id in this account.")
    return policy


def _save_app(request, token, app, attached, extras):
    with _saving({**ser.APP_RENAME, **extras.rename}), transaction.atomic():
        application_save(acting_user=token.owner, instance=app, policies=attached, ip_address=ip_address(request))
        return stored_fields_save(acting_user=token.owner, instance=app, extras=extras, ip_address=ip_address(request))


@endpoint(GET=s.READ_APPS_POLICIES, POST=s.WRITE_APPS_POLICIES)
def applications(request, token):
    if request.method == "POST":
        fields, attached, extras = ser.application_from_body(parse_body(request), token.organization)
        app = Application(organization=token.organization, **fields)
        stored = _save_app(request, token, app, attached, extras)
        return ok(ser.application(app, stored))
    apps, info = _paged(request, Application.objects.filter(organization=token.organization).order_by("name", "id"))
    links: dict[int, list] = {app.pk: [] for app in apps}
    for app_id, public_id, name, precedence in (
            AppPolicy.objects.filter(application__in=apps).order_by("application_id", "precedence")
            .values_list("application_id", "policy__public_id", "policy__name", "precedence")):
        links[app_id].append((public_id, name, precedence))
    stored = stored_fields_by("application", links)
    return ok([ser.application(app, stored.get(app.pk), links=links[app.pk]) for app in apps], info(len(apps)))


@endpoint(GET=s.READ_APPS_POLICIES, PUT=s.WRITE_APPS_POLICIES, DELETE=s.WRITE_APPS_POLICIES)
def application_detail(request, token, app_id):
    app = _app(token, app_id)
    stored = stored_fields_of(app)
    if request.method == "DELETE":
        configuration_delete(acting_user=token.owner, instance=app, ip_address=ip_address(request))
        return ok({"id": str(app.public_id)})
    if request.method == "PUT":
        fields, attached, extras = ser.application_from_body(parse_body(request), token.organization, app, stored)
        for name, value in fields.items():
            setattr(app, name, value)
        stored = _save_app(request, token, app, attached, extras)
        app.refresh_from_db()
    return ok(ser.application(app, stored))


def _policy_page(request, queryset):
    rows, info = _paged(request, queryset.annotate(app_count=Count("app_policies")).order_by("name", "id"))
    stored = stored_fields_by("policy", [p.pk for p in rows])
    return ok([ser.policy(p, stored.get(p.pk), app_count=p.app_count) for p in rows], info(len(rows)))


def _create_policy(request, token):
    fields, extras = ser.policy_from_body(parse_body(request))
    policy = Policy(organization=token.organization, **fields)
    with _saving(ser.POLICY_RENAME):
        configuration_save(acting_user=token.owner, instance=policy, ip_address=ip_address(request))
    return policy, stored_fields_save(acting_user=token.owner, instance=policy, extras=extras,
                                      ip_address=ip_address(request))


@endpoint(GET=s.READ_APPS_POLICIES, POST=s.WRITE_APPS_POLICIES)
def policies(request, token):
    if request.method == "POST":
        with transaction.atomic():
            policy, stored = _create_policy(request, token)
        return ok(ser.policy(policy, stored))
    return _policy_page(request, Policy.objects.filter(organization=token.organization))


@endpoint(GET=s.READ_APPS_POLICIES, POST=s.WRITE_APPS_POLICIES)
def application_policies(request, token, app_id):
    """An application's policies in precedence order; ``POST`` creates a policy and attaches it
    after the others (Cloudflare's application-scoped policies; mfagate's are all reusable)."""
    app = _app(token, app_id)
    if request.method == "POST":
        with transaction.atomic():
            policy, stored = _create_policy(request, token)
            last = AppPolicy.objects.filter(application=app).aggregate(m=Max("precedence"))["m"] or 0
            with _saving():
                policy_attach(acting_user=token.owner, application=app, policy=policy, precedence=last + 1,
                              ip_address=ip_address(request))
        return ok(ser.policy(policy, stored, app_count=1))
    page = page_of(request)
    links = AppPolicy.objects.filter(application=app)
    total = links.count()
    rows = list(Policy.objects.filter(app_policies__application=app).annotate(app_count=Count("app_policies"))
                .order_by("app_policies__precedence")[page.offset:page.offset + page.per_page]) \
        if page.offset < total else []
    stored = stored_fields_by("policy", [p.pk for p in rows])
    return ok([ser.policy(p, stored.get(p.pk), app_count=p.app_count) for p in rows],
              page.result_info(len(rows), total))


@endpoint(GET=s.READ_APPS_POLICIES, PUT=s.WRITE_APPS_POLICIES, DELETE=s.WRITE_APPS_POLICIES)
def policy_detail(request, token, policy_id):
    policy = _policy(token, policy_id)
    stored = stored_fields_of(policy)
    if request.method == "DELETE":
        configuration_delete(acting_user=token.owner, instance=policy, ip_address=ip_address(request))
        return ok({"id": str(policy.public_id)})
    if request.method == "PUT":
        fields, extras = ser.policy_from_body(parse_body(request))
        for name, value in fields.items():
            setattr(policy, name, value)
        with _saving(ser.POLICY_RENAME), transaction.atomic():
            configuration_save(acting_user=token.owner, instance=policy, ip_address=ip_address(request))
            stored = stored_fields_save(acting_user=token.owner, instance=policy, extras=extras,
                                        ip_address=ip_address(request))
    return ok(ser.policy(policy, stored))


# ------------------------------------------------------------------------------ the rest
@require_GET
def openapi_document(request):
    """The OpenAPI 3.1 document of this API, built from :mod:`api.shapes` (no token needed)."""
    return JsonResponse(openapi.document(), json_dumps_params={"ensure_ascii": False})


@csrf_exempt
def unknown(request, path=""):
    """Anything else under ``/client/v4/``: Cloudflare's 7003 + 7000 envelope rather than an HTML page."""
    return ApiError(404, [(envelope.NO_ROUTE_TO, f"Could not route to /client/v4/{path[:200]}, perhaps your "
                                                 "object identifier is invalid?"),
                          (envelope.NO_ROUTE, "No route for that URI")]).response()
