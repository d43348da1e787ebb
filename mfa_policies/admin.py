"""The admin site for the MFA configuration.

Saves go through :func:`mfa_policies.services.configuration_save` (validated, audited, and raising
the configuration version of the applications they govern), with the many-to-many fields in the
same call, so an admin edit is one audited change.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path

from . import clock
from .explain import decision_as_dict, explain

from . import constants as c
from .models import AaguidItem, AaguidList, AppPolicy, Application, Connection, Environment, Membership, Organization, Policy, Role
from .services import configuration_changed, configuration_delete, configuration_save


admin.site.site_header = "mfagate admin console"
admin.site.site_title = "mfagate admin"
admin.site.index_title = "Multi-factor authentication"


class KindsField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(choices=c.AUTHENTICATOR_CHOICES, **kwargs)


class ServiceSavedAdmin(admin.ModelAdmin):
    """Saves the row and its many-to-many fields in one audited service call."""

    def save_model(self, request, obj, form, change):
        pass  # saved with its many-to-many fields in save_related

    def delete_model(self, request, obj):
        configuration_delete(acting_user=request.user, instance=obj, ip_address=request.META.get("REMOTE_ADDR"))

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def save_related(self, request, form, formsets, change):
        m2m = {
            field.name: form.cleaned_data[field.name]
            for field in form.instance._meta.many_to_many
            if field.name in form.cleaned_data and field.remote_field.through._meta.auto_created
        }
        configuration_save(acting_user=request.user, instance=form.instance, m2m=m2m,
                           ip_address=request.META.get("REMOTE_ADDR"))
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
        if any(formset.has_changed() for formset in formsets) and isinstance(form.instance, Application):
            configuration_changed(application_ids=[form.instance.pk])


class EnvironmentForm(forms.ModelForm):
    allowed_authenticators = KindsField(label="Default methods")

    class Meta:
        model = Environment
        fields = ["mfa_requirement", "allowed_authenticators"]
        widgets = {"mfa_requirement": forms.RadioSelect}


@admin.register(Environment)
class EnvironmentAdmin(ServiceSavedAdmin):
    form = EnvironmentForm

    def has_add_permission(self, request):
        return not Environment.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class OrganizationForm(forms.ModelForm):
    allowed_authenticators = KindsField(label="Methods", help_text="None selected: independent MFA is off.")

    class Meta:
        model = Organization
        fields = "__all__"


@admin.register(Organization)
class OrganizationAdmin(ServiceSavedAdmin):
    form = OrganizationForm
    list_display = ["name", "account_id", "mfa_required_for_all_apps", "auth_domain"]
    search_fields = ["name", "account_id", "auth_domain"]
    readonly_fields = ["account_id"]
    filter_horizontal = ["exempt_roles", "exempt_connections"]
    fieldsets = (
        (None, {"fields": ("name", "account_id", "auth_domain")}),
        ("Multi-factor auth", {"fields": ("mfa_required_for_all_apps", "allowed_authenticators", "session_duration",
                                          "amr_matching_enabled", "amr_session_duration", "required_aaguids")}),
        ("Exemptions", {"fields": ("exempt_roles", "exempt_connections")}),
    )

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "exempt_connections":
            kwargs["queryset"] = Connection.objects.filter(kind__in=c.ENTERPRISE_CONNECTION_KINDS)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class MfaConfigForm(forms.ModelForm):
    mfa_allowed_authenticators = KindsField(label="MFA methods")


class AppPolicyInline(admin.TabularInline):
    model = AppPolicy
    extra = 0
    autocomplete_fields = ["policy"]


class ApplicationForm(MfaConfigForm):
    class Meta:
        model = Application
        fields = "__all__"
        widgets = {"mfa_mode": forms.RadioSelect}


class PolicyTesterForm(forms.Form):
    email = forms.EmailField(label="User's email")
    application = forms.ModelChoiceField(queryset=Application.objects.select_related("organization"))
    connection = forms.ModelChoiceField(queryset=Connection.objects.all(), to_field_name="key",
                                        help_text="How the user signed in.")
    amr = forms.CharField(label="IdP amr values", required=False,
                          help_text="Comma-separated, as the identity provider reports them, e.g. pwd,hwk.")

    def clean_email(self):
        from django.contrib.auth import get_user_model

        email = self.cleaned_data["email"]
        user = get_user_model().objects.filter(email__iexact=email).first()
        if user is None:
            raise forms.ValidationError(f"There is no user with email {email}.")
        self.cleaned_data["user"] = user
        return email

    def clean_amr(self):
        values = tuple(v.strip() for v in self.cleaned_data["amr"].split(",") if v.strip())
        if len(values) > 20 or any(len(v) > 64 for v in values):
            raise forms.ValidationError("Give at most 20 amr values of up to 64 characters each.")
        return values


@admin.register(Application)
class ApplicationAdmin(ServiceSavedAdmin):
    form = ApplicationForm
    list_display = ["name", "organization", "mfa_mode", "session_duration", "config_version"]
    list_filter = ["organization", "mfa_mode"]
    search_fields = ["name"]
    inlines = [AppPolicyInline]
    readonly_fields = ["config_version"]
    change_list_template = "admin/mfa_policies/application_change_list.html"

    def get_urls(self):
        tester = self.admin_site.admin_view(self.policy_tester_view)
        return [path("policy-tester/", tester, name="mfa_policies_policy_tester")] + super().get_urls()

    def policy_tester_view(self, request):
        """User + application + connection + amr → the decision and its trail (read-only)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = PolicyTesterForm(request.GET or None)
        result = None
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            decision = explain(user=data["user"], application=data["application"],
                               connection=data["connection"].key, amr=data["amr"], now=clock.now())
            result = decision_as_dict(decision, application=data["application"].name, email=data["user"].email)
        context = {**self.admin_site.each_context(request), "title": "Policy tester", "form": form,
                   "result": result, "opts": self.model._meta}
        return TemplateResponse(request, "admin/mfa_policies/policy_tester.html", context)


class PolicyForm(MfaConfigForm):
    class Meta:
        model = Policy
        fields = "__all__"
        widgets = {"mfa_mode": forms.RadioSelect}


@admin.register(Policy)
class PolicyAdmin(ServiceSavedAdmin):
    form = PolicyForm
    list_display = ["name", "organization", "decision", "mfa_mode"]
    list_filter = ["organization", "decision", "mfa_mode"]
    search_fields = ["name"]


class AaguidItemInline(admin.TabularInline):
    model = AaguidItem
    extra = 1


@admin.register(AaguidList)
class AaguidListAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "id"]
    inlines = [AaguidItemInline]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["key", "name"]
    search_fields = ["key", "name"]


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "kind", "provider_id"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization"]
    list_filter = ["organization"]
    search_fields = ["user__email"]
    filter_horizontal = ["roles"]
    autocomplete_fields = ["user"]
