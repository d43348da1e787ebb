"""Create and revoke API tokens. The plaintext is shown once, in the message after creation."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from accounts.audit import client_ip
from mfa_policies.admin.filters import OrganizationFilter

from .models import ApiToken
from .scopes import SCOPE_CHOICES
from .services import api_token_create, api_token_revoke


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=SCOPE_CHOICES, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiToken
        fields = ["name", "owner", "organization", "scopes", "expires_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenForm
    list_display = ["name", "key_id", "organization", "owner", "status", "created_at", "last_used_at", "expires_at"]
    list_filter = [("organization", OrganizationFilter)]
    list_select_related = ["organization", "owner"]
    search_fields = ["name", "key_id", "owner__email"]
    autocomplete_fields = ["owner", "organization"]
    actions = ["revoke_selected"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # A token is never edited after creation: revoke it and create another.
        return ["name", "key_id", "owner", "organization", "scopes", "created_at", "last_used_at",
                "expires_at", "revoked_at"]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) or super().get_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # revoked tokens stay, so audit rows keep pointing at something

    def save_model(self, request, obj, form, change):
        if change:
            return
        _, plaintext = api_token_create(acting_user=request.user, token=obj,
                                        ip_address=client_ip(request))
        messages.warning(request, f"Copy the token now — it is not stored and will not be shown again: {plaintext}")

    @admin.action(description="Revoke selected API tokens", permissions=["change"])
    def revoke_selected(self, request, queryset):
        for token in queryset:
            api_token_revoke(acting_user=request.user, token=token, ip_address=client_ip(request))
        self.message_user(request, f"Revoked {queryset.count()} token(s).")
