"""The REST API of spec §6: thin views — parse, one service call, envelope."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.views.decorators.csrf import csrf_exempt

from accounts.models import User
from enrollment.flows import authenticator_delete_by_admin
from enrollment.models import Authenticator
from mfa_policies.models import AaguidList, Application, Policy
from mfa_policies.services import (
    aaguid_list_delete,
    aaguid_list_save,
    application_save,
    configuration_delete,
    configuration_save,
)

from . import envelope
from . import scopes as s
from . import serializers as ser
from .auth import endpoint, ip_address
from .envelope import ApiError, ok, parse_body


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


# ------------------------------------------------------------------------------ organizations
@endpoint(GET=s.READ_ORGANIZATIONS, PUT=s.WRITE_ORGANIZATIONS)
def organizations(request, token):
    org = token.organization
    if request.method == "PUT":
        fields, m2m = ser.organization_from_body(parse_body(request), org)
        for name, value in fields.items():
            setattr(org, name, value)
        with _saving(ser.ORGANIZATION_RENAME):
            configuration_save(acting_user=token.owner, instance=org, m2m=m2m, ip_address=ip_address(request))
    return ok(ser.organization(org))


# ------------------------------------------------------------------------------ AAGUID lists
def _list(token, list_id) -> AaguidList:
    obj = AaguidList.objects.filter(organization=token.organization, pk=envelope.parse_uuid("list_id", list_id)).first()
    if obj is None:
        raise envelope.not_found("No AAGUID list with that id in this account.")
    return obj


@endpoint(GET=s.READ_ORGANIZATIONS, POST=s.WRITE_ORGANIZATIONS)
def aaguid_lists(request, token):
    if request.method == "POST":
        fields, items = ser.aaguid_list_from_body(parse_body(request))
        obj = AaguidList(organization=token.organization, **fields)
        with _saving():
            aaguid_list_save(acting_user=token.owner, aaguid_list=obj, items=items, ip_address=ip_address(request))
        return ok(ser.aaguid_list(obj))
    lists = AaguidList.objects.filter(organization=token.organization).prefetch_related("items")
    return ok([ser.aaguid_list(obj) for obj in lists])


@endpoint(GET=s.READ_ORGANIZATIONS, PUT=s.WRITE_ORGANIZATIONS, PATCH=s.WRITE_ORGANIZATIONS,
          DELETE=s.WRITE_ORGANIZATIONS)
def aaguid_list_detail(request, token, list_id):
    obj = _list(token, list_id)
    if request.method == "GET":
        return ok(ser.aaguid_list(obj))
    if request.method == "DELETE":
        with _saving():
            aaguid_list_delete(acting_user=token.owner, aaguid_list=obj, ip_address=ip_address(request))
        return ok({"id": list_id})
    if request.method == "PUT":
        fields, items = ser.aaguid_list_from_body(parse_body(request))
        for name, value in fields.items():
            setattr(obj, name, value)
    else:
        items = ser.aaguid_list_patch_from_body(parse_body(request), obj)
    with _saving():
        aaguid_list_save(acting_user=token.owner, aaguid_list=obj, items=items, ip_address=ip_address(request))
    return ok(ser.aaguid_list(obj))


# ------------------------------------------------------------------------------ users
def _member(token, user_id) -> User:
    member = (User.objects.filter(pk=envelope.parse_uuid("user_id", user_id),
                                  memberships__organization=token.organization).first())
    if member is None:
        raise envelope.not_found("No user with that id in this account.")
    return member


@endpoint(GET=s.READ_USERS)
def users(request, token):
    members = (User.objects.filter(memberships__organization=token.organization)
               .annotate(mfa_authenticator_count=Count("authenticators", distinct=True)).order_by("email"))
    return ok([ser.user(member) for member in members])


@endpoint(GET=s.READ_USERS)
def user_authenticators(request, token, user_id):
    member = _member(token, user_id)
    return ok([ser.authenticator(a) for a in Authenticator.objects.filter(user=member).order_by("created_at")])


@endpoint(DELETE=s.REVOKE_USERS)
def user_authenticator_detail(request, token, user_id, authenticator_id):
    member = _member(token, user_id)
    pk = envelope.parse_uuid("authenticator_id", authenticator_id)
    if not Authenticator.objects.filter(pk=pk, user=member).exists():
        raise envelope.not_found("No MFA device with that id for this user.")
    authenticator_delete_by_admin(request=request, acting_user=token.owner, authenticator_id=pk)
    return ok({"id": str(pk)})


# ------------------------------------------------------------------------------ apps and policies
@endpoint(GET=s.READ_APPS_POLICIES, POST=s.WRITE_APPS_POLICIES)
def applications(request, token):
    if request.method == "POST":
        fields, attached = ser.application_from_body(parse_body(request), token.organization)
        app = Application(organization=token.organization, **fields)
        with _saving(ser.APP_RENAME):
            application_save(acting_user=token.owner, instance=app, policies=attached, ip_address=ip_address(request))
        return ok(ser.application(app))
    return ok([ser.application(app) for app in Application.objects.filter(organization=token.organization)
               .order_by("name")])


@endpoint(GET=s.READ_APPS_POLICIES, PUT=s.WRITE_APPS_POLICIES, DELETE=s.WRITE_APPS_POLICIES)
def application_detail(request, token, app_id):
    app = Application.objects.filter(organization=token.organization,
                                     pk=envelope.parse_int_id("app_id", app_id)).first()
    if app is None:
        raise envelope.not_found("No application with that id in this account.")
    if request.method == "DELETE":
        configuration_delete(acting_user=token.owner, instance=app, ip_address=ip_address(request))
        return ok({"id": int(app_id)})
    if request.method == "PUT":
        fields, attached = ser.application_from_body(parse_body(request), token.organization)
        for name, value in fields.items():
            setattr(app, name, value)
        with _saving(ser.APP_RENAME):
            application_save(acting_user=token.owner, instance=app, policies=attached, ip_address=ip_address(request))
        app.refresh_from_db()
    return ok(ser.application(app))


@endpoint(GET=s.READ_APPS_POLICIES, POST=s.WRITE_APPS_POLICIES)
def policies(request, token):
    if request.method == "POST":
        policy = Policy(organization=token.organization, **ser.policy_from_body(parse_body(request)))
        with _saving(ser.POLICY_RENAME):
            configuration_save(acting_user=token.owner, instance=policy, ip_address=ip_address(request))
        return ok(ser.policy(policy))
    return ok([ser.policy(p) for p in Policy.objects.filter(organization=token.organization).order_by("name")])


@endpoint(GET=s.READ_APPS_POLICIES, PUT=s.WRITE_APPS_POLICIES, DELETE=s.WRITE_APPS_POLICIES)
def policy_detail(request, token, policy_id):
    policy = Policy.objects.filter(organization=token.organization,
                                   pk=envelope.parse_int_id("policy_id", policy_id)).first()
    if policy is None:
        raise envelope.not_found("No policy with that id in this account.")
    if request.method == "DELETE":
        configuration_delete(acting_user=token.owner, instance=policy, ip_address=ip_address(request))
        return ok({"id": int(policy_id)})
    if request.method == "PUT":
        for name, value in ser.policy_from_body(parse_body(request)).items():
            setattr(policy, name, value)
        with _saving(ser.POLICY_RENAME):
            configuration_save(acting_user=token.owner, instance=policy, ip_address=ip_address(request))
    return ok(ser.policy(policy))


@csrf_exempt
def unknown(request, path=""):
    """Anything else under ``/client/v4/``: a 404 envelope rather than an HTML page."""
    return ApiError(404, [(envelope.NOT_FOUND, "No such endpoint.")]).response()
