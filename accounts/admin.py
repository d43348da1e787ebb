"""The admin console's accounts: users (with their MFA devices), permission groups, the
enterprise IdPs' social applications — every write through :mod:`accounts.services` — and the
read-only audit log. Third-party admins that would show a secret or write around a flow are
replaced or removed here (django-otp's TOTP devices, allauth's social tokens)."""

from __future__ import annotations

import contextvars
import datetime as dt

from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.socialaccount.admin import SocialAccountAdmin as AllauthSocialAccountAdmin
from allauth.socialaccount.admin import SocialAppForm
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.html import format_html
from django_otp.plugins.otp_totp.models import TOTPDevice

from enrollment import flows, selectors, throttle
from enrollment import webauthn as wa
from enrollment.messages import MESSAGES
from enrollment.models import Authenticator
from mfa_policies.admin.filters import RelatedSearchFilter, UserFilter
from mfa_policies.messages import message

from .admin_base import AuditedModelAdmin, ReadOnlyModelAdmin, ip_of
from .audit import CONFIGURATION_FAMILIES, SECURITY_FAMILIES
from .models import AuditEvent, User
from .services import (group_delete, group_save, social_app_delete, social_app_save, user_delete,
                       user_password_set, user_save)

# Side doors: django-otp's device admin shows every TOTP secret (and a QR code of it) and writes
# devices with no audit or notice; allauth's token admin shows the IdPs' access tokens. MFA devices
# are managed on the user's page, through the enrollment flows.
for model in (TOTPDevice, SocialToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)

#: The request whose admin is changing a password (Django's password view builds its form itself).
_password_request: contextvars.ContextVar = contextvars.ContextVar("mfagate_password_request")


class AuditedPasswordChangeForm(AdminPasswordChangeForm):
    """Django's admin password form, saved through :func:`accounts.services.user_password_set`."""

    def save(self, commit=True):
        request = _password_request.get()
        usable = self.cleaned_data.get("set_usable_password", True)
        return user_password_set(acting_user=request.user, user=self.user,
                                 raw_password=self.cleaned_data["password1"] if usable else None,
                                 ip_address=ip_of(request))


@admin.register(User)
class UserAdmin(AuditedModelAdmin, BaseUserAdmin):
    """Users, with their MFA devices (spec §5): listed on the change page, each deletable through
    :func:`enrollment.flows.authenticator_delete_by_admin`, plus the enrollment link to share; and
    their MFA verification throttle, unlockable through :func:`enrollment.flows.throttle_unlock`.
    Privileges, activation, e-mail and password change through :mod:`accounts.services`."""

    change_form_template = "admin/accounts/user/change_form.html"
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "name"]
    # Groups grow with the deployment: search boxes. Permissions are a fixed list (four per model).
    list_filter = ["is_staff", "is_superuser", "is_active", ("groups", RelatedSearchFilter)]
    autocomplete_fields = ["groups"]
    filter_horizontal = ["user_permissions"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    change_password_form = AuditedPasswordChangeForm

    def save_with_service(self, request, form, formsets, change):
        data = form.cleaned_data
        user_save(acting_user=request.user, user=form.instance, groups=data.get("groups"),
                  user_permissions=data.get("user_permissions"), password_set=not change, ip_address=ip_of(request))

    def delete_with_service(self, request, obj):
        user_delete(acting_user=request.user, user=obj, ip_address=ip_of(request))

    def user_change_password(self, request, id, form_url=""):
        token = _password_request.set(request)
        try:
            with transaction.atomic():
                return super().user_change_password(request, id, form_url)
        finally:
            _password_request.reset(token)

    def get_urls(self):
        delete = self.admin_site.admin_view(self.mfa_device_delete_view)
        unlock = self.admin_site.admin_view(self.mfa_throttle_unlock_view)
        return [
            path("<uuid:user_id>/mfa-devices/<uuid:authenticator_id>/delete/", delete,
                 name="accounts_user_mfa_device_delete"),
            path("<uuid:user_id>/mfa-throttle/unlock/", unlock, name="accounts_user_mfa_throttle_unlock"),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        user = self.get_object(request, object_id)
        if user is not None:
            extra_context = {**(extra_context or {}), **self._mfa_context(request, user)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _mfa_context(self, request, user) -> dict:
        may_delete = flows.may_delete_for_others(request.user)
        devices = [
            {
                "device": device,
                "model_name": wa.authenticator_model_name(device.aaguid) if device.is_webauthn else "",
                "delete_url": reverse("admin:accounts_user_mfa_device_delete", args=[user.pk, device.pk])
                if may_delete else "",
            }
            for device in selectors.devices_for(user)
        ]
        state = throttle.state_of(user)
        return {
            "mfa_devices": devices,
            "mfa_enrollment_url": request.build_absolute_uri(reverse("enrollment:add")),
            "mfa_no_devices": MESSAGES["admin_no_devices"],
            "mfa_throttle": state,
            "mfa_throttle_text": _throttle_text(state),
            "mfa_throttle_unlock_url": reverse("admin:accounts_user_mfa_throttle_unlock", args=[user.pk])
            if not state.is_clear and flows.may_unlock_throttle(request.user) else "",
            "mfa_security_events_url": f"{reverse('admin:accounts_auditevent_changelist')}?"
                                       f"{urlencode({'subject_user': user.pk, 'family': 'security'})}"
            if request.user.has_perm("accounts.view_auditevent") else "",
        }

    def mfa_device_delete_view(self, request, user_id, authenticator_id):
        """GET: confirm; POST: delete through the flow (which checks the permission)."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        authenticator = get_object_or_404(Authenticator.objects.select_related("user"),
                                          pk=authenticator_id, user_id=user_id)
        if request.method == "POST":
            flows.authenticator_delete_by_admin(request=request, acting_user=request.user,
                                                authenticator_id=authenticator.pk)
            messages.success(request, MESSAGES["admin_deleted"].format(name=authenticator.name,
                                                                       email=authenticator.user.email))
            return redirect("admin:accounts_user_change", user_id)
        if not flows.may_delete_for_others(request.user):
            raise PermissionDenied(MESSAGES["admin_delete_not_allowed"])
        context = {
            **self.admin_site.each_context(request),
            "title": "Delete MFA device",
            "opts": self.opts,
            "authenticator": authenticator,
            "owner": authenticator.user,
            "change_url": reverse("admin:accounts_user_change", args=[user_id]),
        }
        return TemplateResponse(request, "admin/accounts/user/mfa_device_delete.html", context)

    def mfa_throttle_unlock_view(self, request, user_id):
        """GET: confirm; POST: unlock through the flow (which checks the permission)."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        user = get_object_or_404(User, pk=user_id)
        if request.method == "POST":
            before = flows.throttle_unlock(request=request, acting_user=request.user, user=user)
            if before.is_clear:
                messages.info(request, MESSAGES["admin_not_throttled"].format(email=user.email))
            else:
                messages.success(request, MESSAGES["admin_unlocked"].format(
                    email=user.email, failures=before.consecutive_failures))
            return redirect("admin:accounts_user_change", user_id)
        if not flows.may_unlock_throttle(request.user):
            raise PermissionDenied(MESSAGES["admin_unlock_not_allowed"])
        state = throttle.state_of(user)
        context = {
            **self.admin_site.each_context(request),
            "title": "Unlock MFA verification",
            "opts": self.opts,
            "owner": user,
            "throttle_text": _throttle_text(state),
            "change_url": reverse("admin:accounts_user_change", args=[user_id]),
        }
        return TemplateResponse(request, "admin/accounts/user/mfa_throttle_unlock.html", context)


def _at(moment):
    """A moment as a ``<time>`` that does not break at its hyphens on a narrow screen."""
    return format_html('<time datetime="{}">{}</time>', moment.isoformat(), moment.strftime("%Y-%m-%d %H:%M:%S UTC"))


def _throttle_text(state: throttle.ThrottleState):
    """The throttle in words (HTML: its moments are ``<time>`` elements)."""
    if state.is_clear:
        return MESSAGES["admin_throttle_clear"]
    if state.locked_until and state.next_attempt_at:
        return format_html(MESSAGES["admin_throttle_locked"], failures=state.consecutive_failures,
                           at=_at(state.locked_until))
    if state.next_attempt_at:
        return format_html(MESSAGES["admin_throttle_waiting"], failures=state.consecutive_failures,
                           at=_at(state.next_attempt_at))
    return MESSAGES["admin_throttle_free"].format(failures=state.consecutive_failures)


class ActionFamilyFilter(admin.SimpleListFilter):
    """The kind of event — an action's family (``mfa.verified`` is in ``mfa``), the security events
    together or every configuration change — from a fixed list: drawing it runs no query (Django's
    own filter on ``action`` lists the distinct actions of every row). One action exactly:
    ``?action=mfa.verification_failed``."""

    title = "kind of event"
    parameter_name = "family"
    GROUPS = {"security": SECURITY_FAMILIES, "configuration": CONFIGURATION_FAMILIES,
              **{family: (family,) for family in (*SECURITY_FAMILIES, *CONFIGURATION_FAMILIES)}}

    def lookups(self, request, model_admin):
        return [(key, message(f"audit_family_{key}"))
                for key in ("security", *SECURITY_FAMILIES, "configuration", *CONFIGURATION_FAMILIES)]

    def queryset(self, request, queryset):
        families = self.GROUPS.get(self.value())  # anything else typed into the address: no filter
        if not families:
            return queryset
        match = Q()
        for family in families:
            match |= Q(action__startswith=f"{family}.")
        return queryset.filter(match)


class TimeFilter(admin.DateFieldListFilter):
    """Django's date filter (any date, today, past 7 days, this month, this year), titled "time"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "time"


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log is read-only: events are written by services, never edited.

    Filtered by kind of event and by the user it concerns or who acted, each a text box (an
    e-mail address or part of one, or a user id) — never a list of every user."""

    # What happened first (at 375 px the time and the action are what fits); object types are in
    # the action's family and on each event's page.
    list_display = ["at_utc", "action", "subject_user", "actor_label", "ip_address", "object_label"]
    list_select_related = ["subject_user"]
    # "By time" is Django's fixed date filter (today, past 7 days, this month, this year) on the indexed
    # time: drawing it runs no query. A date hierarchy read every row's month on each page (1.2 s
    # at a million events); the export takes any range (manage.py export_audit --since --until).
    list_filter = [("subject_user", UserFilter), ("actor", UserFilter), ActionFamilyFilter,
                   ("at", TimeFilter)]
    search_fields = ["actor_label", "object_label", "object_id"]
    show_full_result_count = False  # the log only grows: no second count of every row under a search or filter
    show_facets = admin.ShowFacets.NEVER  # "Show counts" would count every family over the whole log

    @admin.display(description="At (UTC)", ordering="at")
    def at_utc(self, event):
        return f"{event.at.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M:%S}"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AuditedModelAdmin, BaseGroupAdmin):
    """Permission groups, through :func:`accounts.services.group_save`."""

    def save_with_service(self, request, form, formsets, change):
        group_save(acting_user=request.user, group=form.instance, permissions=form.cleaned_data.get("permissions"),
                   ip_address=ip_of(request))

    def delete_with_service(self, request, obj):
        group_delete(acting_user=request.user, group=obj, ip_address=ip_of(request))


class SecretWriteOnlyForm(SocialAppForm):
    """The client secret is never shown again: the field starts empty; leaving it empty keeps it."""

    secret = forms.CharField(
        label="Secret key", required=False, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password", "size": "60"}),
        help_text="Write-only: the stored secret is never shown. Leave empty to keep it.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stored_secret = self.instance.secret if self.instance.pk else ""
        self.initial["secret"] = ""

    def clean_secret(self):
        return self.cleaned_data["secret"] or self._stored_secret


if admin.site.is_registered(SocialApp):
    admin.site.unregister(SocialApp)


@admin.register(SocialApp)
class SocialAppAdmin(AuditedModelAdmin):
    """Enterprise IdPs' client credentials (django-allauth), through
    :func:`accounts.services.social_app_save`; the secret is write-only."""

    form = SecretWriteOnlyForm
    list_display = ["name", "provider", "provider_id", "client_id"]
    search_fields = ["name", "provider_id", "client_id"]

    def save_with_service(self, request, form, formsets, change):
        social_app_save(acting_user=request.user, app=form.instance, ip_address=ip_of(request))

    def delete_with_service(self, request, obj):
        social_app_delete(acting_user=request.user, app=obj, ip_address=ip_of(request))


for model, base in ((SocialAccount, AllauthSocialAccountAdmin), (EmailAddress, EmailAddressAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    # Who signed in through which IdP, and allauth's e-mail records: shown, never written here
    # (a user's e-mail changes on their user page; IdP links are made by signing in).
    admin.site.register(model, type(f"ReadOnly{model.__name__}Admin", (ReadOnlyModelAdmin, base), {}))
