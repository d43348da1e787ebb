"""Hostile input becomes a field error on every admin form, never a 500 (issue 8).

Django's admin fails on a few crafted posts: JSON nested thousands deep exhausts the parser's
recursion, an autocomplete widget re-rendering a refused value queries the database with it (a
non-UUID user, a policy id that is not a number, a number too large for the column), a list of
ids too large for the column overflows the ``IN`` query, JSON holding NUL characters or lone
surrogates reaches the database, an autocomplete search for a NUL character reaches PostgreSQL, and tampered inline management counts make the formset save
rows twice or drop them. Each piece here closes one of those; :class:`HostileInputMixin` puts
them on a ModelAdmin and its inlines, and :class:`~mfa_policies.admin.site.MfagateAdminSite`
applies it to every ModelAdmin registered — third-party ones included — so a model registered
later is covered without anyone remembering to.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.forms.fields import InvalidJSONInput
from django.forms.formsets import INITIAL_FORM_COUNT, TOTAL_FORM_COUNT

from mfa_policies import validation
from mfa_policies.messages import message

# Free text without a length of its own (a TextField) is refused beyond this in the admin.
MAX_TEXT = 64 * 1024
# New rows one save of an inline may add.
MAX_NEW_ROWS = 200


class BoundedJSONField(forms.JSONField):
    """JSON text refused, in words, when it is larger than
    :data:`~mfa_policies.validation.MAX_JSON_TEXT` or nested deeper than
    :data:`~mfa_policies.validation.MAX_JSON_TEXT_DEPTH` (checked before parsing), or when what it
    holds cannot be stored (NUL, lone surrogates, NaN or Infinity). What a configuration value may
    hold beyond that is :mod:`mfa_policies.validation`'s to say."""

    def to_python(self, value):
        if not self.disabled and isinstance(value, str) and value not in self.empty_values:
            problem = validation.json_text_problem(value)
            if problem:
                raise ValidationError(problem, code="invalid")
        converted = super().to_python(value)
        if not self.disabled:
            problem = validation.json_value_problem(converted, max_depth=validation.MAX_JSON_TEXT_DEPTH,
                                                    max_items=None, max_string=None)
            if problem:
                raise ValidationError(problem, code="invalid")
        return converted

    def bound_data(self, data, initial):
        """What the page shows again: the text as typed whenever it is refused (re-encoding a
        refused value could fail, e.g. on a lone surrogate)."""
        if self.disabled or data is None:
            return super().bound_data(data, initial)
        try:
            self.to_python(data)
        except ValidationError:
            return InvalidJSONInput(data)
        return super().bound_data(data, initial)


def lookup_key(model, to_field_name: str | None, value, using: str | None = None):
    """``value`` as the key of a ``model`` row (its ``to_field_name`` or primary key) if it can
    be one — the right type, and within the column's range for integers — else ``None``, so
    nothing that cannot be a key ever reaches a query."""
    if isinstance(value, model):
        return getattr(value, to_field_name or "pk")
    field = model._meta.get_field(to_field_name) if to_field_name else model._meta.pk
    while field.is_relation:
        field = field.target_field
    if isinstance(value, str) and "\x00" in value:
        return None
    try:
        key = field.to_python(value)
    except (ValidationError, ValueError, TypeError, OverflowError):
        return None
    if isinstance(field, models.IntegerField) and key is not None:
        low, high = connections[using or "default"].ops.integer_field_range(field.get_internal_type())
        if (low is not None and key < low) or (high is not None and key > high):
            return None
    return key


class KeyCheckedModelChoiceField(forms.ModelChoiceField):
    """A value that cannot be a key is "not a valid choice" before any query runs."""

    def to_python(self, value):
        if value not in self.empty_values and lookup_key(self.queryset.model, self.to_field_name, value) is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                  params={"value": validation.shown(value)})
        return super().to_python(value)


class KeyCheckedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A value that cannot be a key is "not a valid value" before the ``IN`` query runs."""

    def _check_values(self, value):
        try:
            values = frozenset(value)
        except TypeError:
            return super()._check_values(value)  # says "Enter a list of values."
        for pk in values:
            if lookup_key(self.queryset.model, self.to_field_name, pk) is None:
                raise ValidationError(self.error_messages["invalid_pk_value"], code="invalid_pk_value",
                                      params={"pk": validation.shown(pk)})
        return super()._check_values(value)


class _KeyCheckedAutocomplete:
    """Re-rendering a refused value shows it unselected instead of querying with it."""

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        keys = [v for v in value if lookup_key(remote.model, getattr(remote, "field_name", None), v, self.db)
                is not None]
        return super().optgroups(name, keys, attr)


class KeyCheckedAutocompleteSelect(_KeyCheckedAutocomplete, AutocompleteSelect):
    pass


class KeyCheckedAutocompleteSelectMultiple(_KeyCheckedAutocomplete, AutocompleteSelectMultiple):
    pass


class CountsCheckedFormSet:
    """An inline formset whose management counts must describe the rows of this page: no negative
    counts, no more initial rows than rows sent, exactly as many initial rows as the object has, and
    at most :data:`MAX_NEW_ROWS` new ones. Tampered counts would otherwise save an existing row as a
    new one (a 500 on the unique constraint), leave rows out of a save that rebuilds the whole list
    (silently deleting them), or make the page build and render 2 000 empty rows (16 s a post).
    Refused counts build no rows beyond the existing ones."""

    def _counts_refused(self) -> bool:
        if not self.is_bound or not self.management_form.is_valid():
            return False
        if not hasattr(self, "_counts_refused_cache"):
            counts = self.management_form.cleaned_data
            initial, total = counts[INITIAL_FORM_COUNT], counts[TOTAL_FORM_COUNT]
            existing = self.get_queryset().count() if self.instance.pk is not None else 0
            self._counts_refused_cache = (initial < 0 or total < initial or initial != existing
                                          or total - initial > MAX_NEW_ROWS)
            self._existing_rows = existing
        return self._counts_refused_cache

    def total_form_count(self):
        total = super().total_form_count()
        return min(total, self._existing_rows) if self._counts_refused() else total

    def clean(self):
        if self._counts_refused():
            raise ValidationError(message("formset_counts"), code="formset_counts")
        super().clean()


class HostileInputMixin:
    """Form fields of a ModelAdmin or an inline that refuse hostile input as field errors."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.JSONField) and kwargs.get("form_class", forms.JSONField) is forms.JSONField:
            kwargs["form_class"] = BoundedJSONField
        elif isinstance(db_field, models.TextField) and not db_field.max_length and not db_field.choices:
            kwargs.setdefault("max_length", MAX_TEXT)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = KeyCheckedAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        kwargs.setdefault("form_class", KeyCheckedModelChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = KeyCheckedAutocompleteSelectMultiple(db_field, self.admin_site,
                                                                    using=kwargs.get("using"))
        kwargs.setdefault("form_class", KeyCheckedModelMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class _HostileInputModelAdmin(HostileInputMixin):
    def get_search_results(self, request, queryset, search_term):
        """A search for a NUL character (the changelist's, or an autocomplete widget's) matches
        nothing, rather than reaching PostgreSQL, which refuses NUL in text."""
        if "\x00" in search_term:
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)

    def get_inlines(self, request, obj):
        return [hostile_input_safe(inline) for inline in super().get_inlines(request, obj)]


class _HostileInputInline(HostileInputMixin):
    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if issubclass(formset, CountsCheckedFormSet):
            return formset
        return type(formset.__name__, (CountsCheckedFormSet, formset), {"__module__": formset.__module__})


_SAFE: dict[type, type] = {}


def hostile_input_safe(admin_class: type) -> type:
    """``admin_class`` (a ModelAdmin or an inline) with :class:`HostileInputMixin` in front; the same
    class every time, so Django's checks and ``isinstance`` see one class per admin."""
    if issubclass(admin_class, HostileInputMixin):
        return admin_class
    if admin_class not in _SAFE:
        mixin = _HostileInputInline if issubclass(admin_class, admin.options.InlineModelAdmin) else _HostileInputModelAdmin
        _SAFE[admin_class] = type(admin_class.__name__, (mixin, admin_class), {
            "__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__,
            "__doc__": admin_class.__doc__})
    return _SAFE[admin_class]
