"""The admin console's site: its titles, and the index linking Environment straight to its one page."""

from __future__ import annotations

from django.contrib import admin

from mfa_policies.models import Environment


class MfagateAdminSite(admin.AdminSite):
    site_header = "mfagate admin console"
    site_title = "mfagate admin"
    index_title = "Multi-factor authentication"

    def get_app_list(self, request, app_label=None):
        """Environment is one row: the index links it to its change form (there is no list of one)."""
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            for model in app["models"]:
                if model["model"] is Environment and model.get("admin_url"):
                    model["name"] = "Environment: multi-factor auth"
                    model["admin_url"] = self._registry[Environment].change_url()
                    model["add_url"] = None
        return app_list
