"""The admin console's site: its titles, the index linking Environment straight to its one page,
and hostile input refused as field errors on every registered ModelAdmin (:mod:`.safe_input`)."""

from __future__ import annotations

from django.contrib import admin

from mfa_policies.models import Environment

from .safe_input import hostile_input_safe


class MfagateAdminSite(admin.AdminSite):
    site_header = "mfagate admin console"
    site_title = "mfagate admin"
    index_title = "Multi-factor authentication"

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every ModelAdmin — ours, a third-party app's, or one registered later — and its inlines
        get :class:`~.safe_input.HostileInputMixin`: crafted input is a field error, never a 500.
        (Django's own ``register`` subclasses ``admin_class`` the same way for ``options``.)"""
        super().register(model_or_iterable, hostile_input_safe(admin_class or admin.ModelAdmin), **options)

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
