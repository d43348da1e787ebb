"""The two kinds of ModelAdmin the console may register: audited and read-only.

Every admin write — add, change, delete, bulk delete, inline rows — is one call into an audited
service (acting user, one transaction, before/after); a ModelAdmin that cannot do that shows the
data read-only. ``tests/admin/test_admin_registry.py`` walks ``admin.site._registry`` and proves
it for every registered model, so a model registered later cannot slip through.
"""

from __future__ import annotations

from django.contrib import admin


def ip_of(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class AuditedModelAdmin(admin.ModelAdmin):
    """Subclasses write through services only: :meth:`save_with_service` gets the validated form
    and its inline formsets, :meth:`delete_with_service` one object."""

    def save_with_service(self, request, form, formsets, change) -> None:
        raise NotImplementedError(f"{type(self).__name__} must save through an audited service")

    def delete_with_service(self, request, obj) -> None:
        raise NotImplementedError(f"{type(self).__name__} must delete through an audited service")

    def save_model(self, request, obj, form, change):
        pass  # saved, with its many-to-many fields and inline rows, in save_related

    def save_related(self, request, form, formsets, change):
        self.save_with_service(request, form, formsets, change)
        for formset in formsets:  # the admin's change message reads what formset.save() would set
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def save_formset(self, request, form, formset, change):
        raise NotImplementedError("inline rows are saved by the service, in save_with_service")

    def delete_model(self, request, obj):
        self.delete_with_service(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Shown, never written here (the data changes through its own flow, or not at all)."""

    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
