"""The admin console's ModelAdmins for the MFA configuration.

Saves go through :func:`mfa_policies.services.configuration_save` (validated, audited, and raising
the configuration version of the applications they govern), with the many-to-many fields in the
same call, so an admin edit is one audited change.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode

from accounts.admin_base import AuditedModelAdmin, ip_of
from enrollment.webauthn import known_authenticators
from mfa_policies import selectors
from mfa_policies.models import (AaguidItem, AaguidList, AppPolicy, Application, Connection, Environment, Membership,
                                 Organization, Policy, Role)
from mfa_policies.services import (aaguid_list_delete, aaguid_list_save, application_save, configuration_delete,
                                   configuration_save, membership_delete, membership_save)

from .filters import OrganizationFilter
from .forms import (AaguidItemForm, AaguidItemFormSet, AaguidListForm, AppPolicyForm, AppPolicyFormSet, ApplicationForm,
                    EnvironmentForm, OrganizationForm, PolicyForm)
from .policy_tester import policy_tester_view


class ServiceSavedAdmin(AuditedModelAdmin):
    """Saves the row and its many-to-many fields in one :func:`configuration_save` call."""

    def save_with_service(self, request, form, formsets, change):
        m2m = {
            field.name: form.cleaned_data[field.name]
            for field in form.instance._meta.many_to_many
            if field.name in form.cleaned_data and field.remote_field.through._meta.auto_created
        }
        configuration_save(acting_user=request.user, instance=form.instance, m2m=m2m, ip_address=ip_of(request))

    def delete_with_service(self, request, obj):
        configuration_delete(acting_user=request.user, instance=obj, ip_address=ip_of(request))


@admin.register(Environment)
class EnvironmentAdmin(ServiceSavedAdmin):
    """One page, no changelist: Environment → Multi-factor auth is the single row's change form."""

    form = EnvironmentForm

    @staticmethod
    def change_url() -> str:
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


@admin.register(Organization)
class OrganizationAdmin(ServiceSavedAdmin):
    form = OrganizationForm
    list_display = ["name", "account_id", "mfa_required_for_all_apps", "auth_domain"]
    search_fields = ["name", "account_id", "auth_domain"]
    readonly_fields = ["account_id"]
    # Searchable boxes, not lists of every role, connection and AAGUID list (of every organization).
    autocomplete_fields = ["required_aaguids", "exempt_roles", "exempt_connections"]
    fieldsets = (
        (None, {"fields": ("name", "account_id", "auth_domain")}),
        ("Multi-factor auth", {"fields": ("mfa_required_for_all_apps", "allowed_authenticators", "session_duration",
                                          "amr_matching_enabled", "amr_session_duration", "required_aaguids")}),
        ("Exemptions", {"fields": ("exempt_roles", "exempt_connections")}),
        ("Enrollment grace period", {
            "fields": ("enrollment_grace_until", "enrollment_grace_sign_ins"),
            "description": "Lets users who must enroll an authenticator choose “Set up later” for a while. With "
                           "both set, the grace period ends when the first of the two runs out.",
        }),
        ("Account recovery", {"fields": ("recovery_codes_enabled",)}),
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
            kwargs["queryset"] = Connection.objects.enterprise()
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class AppPolicyInline(admin.TabularInline):
    """The attached policies, a page of them at a time with a search (see :class:`AppPolicyFormSet`)."""

    model = AppPolicy
    form = AppPolicyForm
    formset = AppPolicyFormSet
    template = "admin/mfa_policies/app_policy_inline.html"
    verbose_name_plural = "attached policies"
    extra = 0
    autocomplete_fields = ["policy"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.params = request.GET
        if obj is not None and obj.organization_id:
            # The search box offers this application's organization's policies only (attaching
            # another organization's is refused anyway): the autocomplete URL carries it.
            widget = formset.form.base_fields["policy"].widget
            widget = getattr(widget, "widget", widget)
            if isinstance(widget, AutocompleteSelect):
                widget.get_url = lambda url=widget.get_url(): f"{url}?{urlencode({'organization': obj.organization_id})}"
        return formset


@admin.register(Application)
class ApplicationAdmin(ServiceSavedAdmin):
    form = ApplicationForm
    list_display = ["name", "organization", "mfa_mode", "session_duration", "config_version"]
    list_filter = [("organization", OrganizationFilter), "mfa_mode"]
    list_select_related = ["organization"]
    search_fields = ["name"]
    autocomplete_fields = ["organization"]
    inlines = [AppPolicyInline]
    readonly_fields = ["config_version"]
    change_list_template = "admin/mfa_policies/application_change_list.html"

    def get_urls(self):
        tester = self.admin_site.admin_view(self.policy_tester_view)
        return [path("policy-tester/", tester, name="mfa_policies_policy_tester")] + super().get_urls()

    def policy_tester_view(self, request):
        return policy_tester_view(self, request)

    def save_with_service(self, request, form, formsets, change):
        """The application and its attached policies in one audited :func:`application_save`."""
        application_save(acting_user=request.user, instance=form.instance,
                         policies=attached_policies(form.instance, formsets), ip_address=ip_of(request))


def attached_policies(application, formsets) -> list[tuple[Policy, int]] | None:
    """The application's attached policies after the inline rows' changes, as ``(policy,
    precedence)`` — or ``None`` when no row changed. Links the page did not show keep their place."""
    rows = [(formset, row) for formset in formsets for row in formset.forms
            if row.has_changed() or formset._should_delete_form(row)]
    if not rows:
        return None
    links = (dict(AppPolicy.objects.filter(application=application).values_list("policy_id", "precedence"))
             if application.pk else {})
    shown = [row.instance.pk for _, row in rows if row.instance.pk]
    for policy_id in AppPolicy.objects.filter(pk__in=shown).values_list("policy_id", flat=True):
        links.pop(policy_id, None)  # the stored link a changed row showed becomes what the row says now
    for formset, row in rows:
        if not formset._should_delete_form(row) and row.cleaned_data.get("policy"):
            links[row.cleaned_data["policy"].pk] = row.cleaned_data["precedence"]
    policies = Policy.objects.in_bulk(list(links))
    return [(policies[pk], precedence) for pk, precedence in links.items()]


@admin.register(Policy)
class PolicyAdmin(ServiceSavedAdmin):
    form = PolicyForm
    list_display = ["name", "organization", "decision", "mfa_mode"]
    list_filter = [("organization", OrganizationFilter), "decision", "mfa_mode"]
    list_select_related = ["organization"]
    search_fields = ["name"]
    autocomplete_fields = ["organization"]

    def get_search_results(self, request, queryset, search_term):
        """The attached-policy search box asks for one organization's policies (see
        :meth:`AppPolicyInline.get_formset`)."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        organization = request.GET.get("organization", "")
        if request.GET.get("model_name") == "apppolicy" and organization.isascii() and organization.isdigit():
            queryset = queryset.filter(organization_id=int(organization))
        return queryset, may_have_duplicates


class AaguidItemInline(admin.TabularInline):
    model = AaguidItem
    form = AaguidItemForm
    formset = AaguidItemFormSet
    extra = 1
    verbose_name = "custom entry"
    verbose_name_plural = "Custom entries"


@admin.register(AaguidList)
class AaguidListAdmin(AuditedModelAdmin):
    """Seed 002 "Create an AAGUID list": Known authenticators and custom entries, saved (and audited)
    in one :func:`~mfa_policies.services.aaguid_list_save` call."""

    form = AaguidListForm
    list_display = ["name", "organization", "id"]
    list_filter = [("organization", OrganizationFilter)]
    list_select_related = ["organization"]
    search_fields = ["name", "items__value", "items__description"]
    autocomplete_fields = ["organization"]
    fields = ["organization", "name", "description", "list_type", "known_authenticators"]
    inlines = [AaguidItemInline]

    def save_with_service(self, request, form, formsets, change):
        descriptions = dict(known_authenticators())
        items = [
            (item.cleaned_data["value"], item.cleaned_data.get("description", ""))
            for formset in formsets for item in formset.forms
            if item.cleaned_data.get("value") and not formset._should_delete_form(item)
        ] + [(aaguid, descriptions.get(aaguid, "")) for aaguid in form.cleaned_data["known_authenticators"]]
        aaguid_list_save(acting_user=request.user, aaguid_list=form.instance, items=items, ip_address=ip_of(request))

    def delete_with_service(self, request, obj):
        aaguid_list_delete(acting_user=request.user, aaguid_list=obj, ip_address=ip_of(request))


@admin.register(Role)
class RoleAdmin(ServiceSavedAdmin):
    list_display = ["key", "name"]
    search_fields = ["key", "name"]


@admin.register(Connection)
class ConnectionAdmin(ServiceSavedAdmin):
    list_display = ["key", "name", "kind", "provider_id"]
    search_fields = ["key", "name", "provider_id"]

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if (request.GET.get("model_name"), request.GET.get("field_name")) == ("organization", "exempt_connections"):
            queryset = queryset.enterprise()  # the exempt-connections box offers what can be exempt
        return queryset, may_have_duplicates


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    """A user's roles in one organization, through :func:`membership_save` (audited; the
    organization's app sessions re-run the login flow). The user and the organization of an
    existing membership are fixed: end it and add another."""

    list_display = ["user", "organization"]
    list_filter = [("organization", OrganizationFilter)]
    list_select_related = ["user", "organization"]
    search_fields = ["user__email"]
    autocomplete_fields = ["user", "organization", "roles"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "organization"] if obj is not None else []

    def save_with_service(self, request, form, formsets, change):
        membership = form.instance
        membership_save(acting_user=request.user, user=membership.user, organization=membership.organization,
                        roles=list(form.cleaned_data["roles"]), ip_address=ip_of(request))

    def delete_with_service(self, request, obj):
        membership_delete(acting_user=request.user, membership=obj, ip_address=ip_of(request))
