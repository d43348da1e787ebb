"""The two kinds of ModelAdmin the console may register: audited and read-only.

Every admin write — add, change, delete, bulk delete, inline rows — is one call into an audited
service (acting user, one transaction, before/after); a ModelAdmin that cannot do that shows the
data read-only. ``tests/admin/test_admin_registry.py`` walks ``admin.site._registry`` and proves
it for every registered model, so a model registered later cannot slip through.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin import utils as admin_utils
from django.db import router
from django.db.models import prefetch_related_objects
from django.utils.text import capfirst

from .audit import client_ip as ip_of  # noqa: F401 — the admins' name for it

#: How many objects of one kind a delete confirmation page names before it counts the rest.
DELETE_PAGE_LISTS_AT_MOST = 20


def bounded_deleted_objects(objs, request, admin_site):
    """Django's ``get_deleted_objects`` with its list cut to :data:`DELETE_PAGE_LISTS_AT_MOST`
    objects per kind: the summary still counts every row, but the names shown — each ``str()`` may
    read its relations — no longer grow with the data (an application with 2 000 attached policies
    drew 2 005 queries). The relations of the objects shown are read in one query each."""
    if not objs:
        return [], {}, set(), []
    collector = admin_utils.NestedObjects(using=router.db_for_write(objs[0]._meta.model), origin=objs)
    collector.collect(objs)
    tree = collector.nested(lambda obj: obj)  # the objects themselves, in the page's order: no query
    shown: dict[type, list] = {}
    hidden: dict[type, int] = {}

    def pick(items):
        kept = []
        for item in items:
            if isinstance(item, list):
                item = pick(item)
                if item:
                    kept.append(item)
            elif len(shown.setdefault(type(item), [])) < DELETE_PAGE_LISTS_AT_MOST:
                shown[type(item)].append(item)
                kept.append(item)
            else:
                hidden[type(item)] = hidden.get(type(item), 0) + 1
        return kept

    tree = pick(tree)
    for model, rows in shown.items():
        prefetch_related_objects(rows, *[f.name for f in model._meta.concrete_fields if f.many_to_one])
    perms_needed: set[str] = set()

    def describe(items):
        described = []
        for item in items:
            if isinstance(item, list):
                described.append(describe(item))
                continue
            model_admin = admin_site.get_model_admin(type(item)) if admin_site.is_registered(type(item)) else None
            if model_admin is not None and not model_admin.has_delete_permission(request, item):
                perms_needed.add(item._meta.verbose_name)
            described.append(f"{capfirst(item._meta.verbose_name)}: {item}")
        return described

    to_delete = describe(tree)
    for model, count in hidden.items():
        name = model._meta.verbose_name_plural if count > 1 else model._meta.verbose_name
        to_delete.append(f"… and {count} more {name}")
    protected = [f"{capfirst(obj._meta.verbose_name)}: {obj}" for obj in collector.protected]
    model_count = {model._meta.verbose_name_plural: len(rows) for model, rows in collector.model_objs.items()}
    return to_delete, model_count, perms_needed, protected


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

    def get_deleted_objects(self, objs, request):
        return bounded_deleted_objects(objs, request, self.admin_site)

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
