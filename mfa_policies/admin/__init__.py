"""The admin site for the MFA configuration.

Saves go through :func:`mfa_policies.services.configuration_save` (validated, audited, and raising
the configuration version of the applications they govern), with the many-to-many fields in the
same call, so an admin edit is one audited change.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from enrollment.webauthn import known_authenticators

from mfa_policies import clock, selectors, validation
from mfa_policies.access.explain import decision_as_dict, explain

from mfa_policies import constants as c
from mfa_policies.models import AaguidItem, AaguidList, AppPolicy, Application, Connection, Environment, Membership, Organization, Policy, Role
from mfa_policies.services import (aaguid_list_delete, aaguid_list_save, configuration_changed, configuration_delete,
                       configuration_save)


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


# Seed 000, "Configure environment-level MFA settings", one line per option.
ENV_REQUIREMENT_HELP = {
    c.ENV_NO: "Apply MFA in only some organizations or for some connections. You will then need to set MFA "
              "in each organization separately.",
    c.ENV_YES: "Enforce MFA for all users in all organizations. This overrides any organization-level settings.",
    c.ENV_OPTIONAL: "Allow MFA but do not require it globally. Organization-level settings can require MFA per org.",
}


class EnvironmentForm(forms.ModelForm):
    mfa_requirement = forms.ChoiceField(
        label="Multi-factor auth", widget=forms.RadioSelect,
        choices=[(value, format_html("<strong>{}</strong> — {}", label, ENV_REQUIREMENT_HELP[value]))
                 for value, label in c.ENV_REQUIREMENT_CHOICES],
        help_text="Whatever you select here, you can still exempt roles from MFA per organization.",
    )
    allowed_authenticators = KindsField(
        label="Default methods",
        help_text="Used by organizations that choose no methods of their own while MFA is required here.",
    )

    class Meta:
        model = Environment
        fields = ["mfa_requirement", "allowed_authenticators"]


@admin.register(Environment)
class EnvironmentAdmin(ServiceSavedAdmin):
    """One page, no changelist: Environment → Multi-factor auth is the single row's change form."""

    form = EnvironmentForm

    def change_url(self) -> str:
        return reverse("admin:mfa_policies_environment_change", args=[Environment.SINGLETON_PK])

    def get_object(self, request, object_id, from_field=None):
        return Environment.load() if str(object_id) == str(Environment.SINGLETON_PK) else None

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return redirect(self.change_url())

    def response_post_save_change(self, request, obj):
        return redirect(self.change_url())

    def has_add_permission(self, request):
        return False  # the row is loaded (or created) by the change page itself

    def has_delete_permission(self, request, obj=None):
        return False


_site_get_app_list = admin.site.get_app_list


def _app_list_with_environment_page(request, app_label=None):
    """The index links Environment straight to its one change form (there is no list of one row)."""
    app_list = _site_get_app_list(request, app_label)
    for app in app_list:
        for model in app["models"]:
            if model["model"] is Environment and model.get("admin_url"):
                model["name"] = "Environment: multi-factor auth"
                model["admin_url"] = admin.site._registry[Environment].change_url()
                model["add_url"] = None
    return app_list


admin.site.get_app_list = _app_list_with_environment_page


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

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and object_id and "_confirm_enforcement_off" not in request.POST:
            confirmation = self._enforcement_off_confirmation(request, object_id)
            if confirmation is not None:
                return confirmation
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _enforcement_off_confirmation(self, request, object_id):
        """Seed 000's warning as a step of its own: switching enforcement off while members verify
        with MFA "may cause breaking changes". Only for a save that would otherwise succeed — a
        refusal (e.g. the environment says “Yes”) is shown on the form as before."""
        org = self.get_object(request, unquote(object_id))
        if org is None or not org.mfa_required_for_all_apps or not self.has_change_permission(request, org):
            return None
        name = str(org)
        form = self.get_form(request, org, change=True)(request.POST, request.FILES, instance=org)
        if not form.is_valid() or form.cleaned_data.get("mfa_required_for_all_apps"):
            return None
        members = selectors.organization_members_with_mfa_count(org)
        if not members:
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Switch off MFA enforcement?",
            "opts": self.model._meta,
            "original": name,
            "object_id": object_id,
            "members": members,
            "post_items": [(key, value) for key, values in request.POST.lists() if key != "csrfmiddlewaretoken"
                           for value in values],
        }
        return TemplateResponse(request, "admin/mfa_policies/organization_enforcement_off_confirm.html", context)

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


def _duplicate_message(value: str) -> str:
    return f"“{value}” is already in this list; each AAGUID may be listed once."


class AaguidItemForm(forms.ModelForm):
    # Longer than the stored 32 characters, so a dashed AAGUID reaches the normalisation.
    value = forms.CharField(label="MFA AAGUIDs", max_length=64, widget=forms.TextInput(attrs={"size": 38}),
                            help_text="32 hexadecimal characters; dashes and capitals are accepted.")

    class Meta:
        model = AaguidItem
        fields = ["value", "description"]

    def clean_value(self):
        try:
            return validation.normalize_aaguid(self.cleaned_data["value"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class AaguidItemFormSet(forms.BaseInlineFormSet):
    """Custom entries; a value repeated here, or also picked from Known authenticators, is refused
    next to the field (rather than by the database constraint)."""

    def clean(self):
        seen = set(self.data.getlist("known_authenticators"))
        refused = False
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            value = data.get("value")
            if not value or data.get("DELETE"):
                continue
            if value in seen:
                form.add_error("value", _duplicate_message(value))
                refused = True
            seen.add(value)
        if not refused:
            super().clean()


class AaguidItemInline(admin.TabularInline):
    model = AaguidItem
    form = AaguidItemForm
    formset = AaguidItemFormSet
    extra = 1
    verbose_name = "custom entry"
    verbose_name_plural = "Custom entries"


class KnownAuthenticatorsWidget(FilteredSelectMultiple):
    """The admin's searchable two-box chooser. SelectFilter prepends its boxes to the select's
    parent; model fields get a wrapper div from the admin, this plain form field needs its own so
    the label stays on the left."""

    def render(self, *args, **kwargs):
        return format_html('<div class="related-widget-wrapper">{}</div>', super().render(*args, **kwargs))


def _known_authenticator_choices():
    return [(aaguid, f"{description} ({aaguid})") for aaguid, description in known_authenticators()]


class AaguidListForm(forms.ModelForm):
    list_type = forms.CharField(label="List type", required=False, disabled=True, initial="MFA AAGUIDs")
    known_authenticators = forms.MultipleChoiceField(
        label="Known authenticators", required=False, choices=_known_authenticator_choices,
        widget=KnownAuthenticatorsWidget("known authenticators", is_stacked=False),
        help_text="From the FIDO Metadata Service data. Each one chosen is added with its AAGUID and description.",
    )

    class Meta:
        model = AaguidList
        fields = ["organization", "name", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # offer only what the list does not hold yet
            held = set(self.instance.items.values_list("value", flat=True))
            field = self.fields["known_authenticators"]
            field.choices = [choice for choice in field.choices if choice[0] not in held]


@admin.register(AaguidList)
class AaguidListAdmin(admin.ModelAdmin):
    """Seed 002 "Create an AAGUID list": Known authenticators and custom entries, saved (and audited)
    in one :func:`~mfa_policies.services.aaguid_list_save` call."""

    form = AaguidListForm
    list_display = ["name", "organization", "id"]
    list_filter = ["organization"]
    search_fields = ["name", "items__value", "items__description"]
    fields = ["organization", "name", "description", "list_type", "known_authenticators"]
    inlines = [AaguidItemInline]

    def save_model(self, request, obj, form, change):
        pass  # saved with its items in save_related

    def save_related(self, request, form, formsets, change):
        descriptions = dict(known_authenticators())
        items = [
            (item.cleaned_data["value"], item.cleaned_data.get("description", ""))
            for formset in formsets for item in formset.forms
            if item.cleaned_data.get("value") and not formset._should_delete_form(item)
        ] + [(aaguid, descriptions.get(aaguid, "")) for aaguid in form.cleaned_data["known_authenticators"]]
        aaguid_list_save(acting_user=request.user, aaguid_list=form.instance, items=items,
                         ip_address=request.META.get("REMOTE_ADDR"))
        for formset in formsets:  # the admin's change message reads what formset.save() would set
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request, obj):
        aaguid_list_delete(acting_user=request.user, aaguid_list=obj, ip_address=request.META.get("REMOTE_ADDR"))

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


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
