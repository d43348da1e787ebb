from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from enrollment import flows, selectors
from enrollment import webauthn as wa
from enrollment.messages import MESSAGES
from enrollment.models import Authenticator
from mfa_policies.admin.filters import RelatedSearchFilter

from .models import AuditEvent, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Users, with their MFA devices (spec §5): listed on the change page, each deletable through
    :func:`enrollment.flows.authenticator_delete_by_admin`, plus the enrollment link to share."""

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

    def get_urls(self):
        delete = self.admin_site.admin_view(self.mfa_device_delete_view)
        return [
            path("<uuid:user_id>/mfa-devices/<uuid:authenticator_id>/delete/", delete,
                 name="accounts_user_mfa_device_delete"),
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
        return {
            "mfa_devices": devices,
            "mfa_enrollment_url": request.build_absolute_uri(reverse("enrollment:add")),
            "mfa_no_devices": MESSAGES["admin_no_devices"],
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


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log is read-only: events are written by services, never edited."""

    list_display = ["at", "actor_label", "action", "object_type", "object_label", "ip_address"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_label", "object_label", "object_id"]
    date_hierarchy = "at"
    show_full_result_count = False  # the log only grows: no second count of every row under a search or filter

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
