from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from enrollment import flows, selectors, throttle
from enrollment import webauthn as wa
from enrollment.messages import MESSAGES
from enrollment.models import Authenticator

from .models import AuditEvent, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Users, with their MFA devices (spec §5): listed on the change page, each deletable through
    :func:`enrollment.flows.authenticator_delete_by_admin`, plus the enrollment link to share; and
    their MFA verification throttle, unlockable through :func:`enrollment.flows.throttle_unlock`."""

    change_form_template = "admin/accounts/user/change_form.html"
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

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


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log is read-only: events are written by services, never edited."""

    list_display = ["at", "actor_label", "action", "object_type", "object_label", "ip_address"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_label", "object_label", "object_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
