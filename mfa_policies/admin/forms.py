"""The admin console's forms: methods as checkboxes, seed 000's help per option, and the AAGUID
list's Known-authenticators picker. Validation itself is the models' (:mod:`mfa_policies.validation`)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.urls import reverse
from django.utils.html import format_html

from enrollment.webauthn import known_authenticators
from mfa_policies import constants as c
from mfa_policies import validation
from mfa_policies.messages import message
from mfa_policies.models import AaguidItem, AaguidList, Application, Environment, Organization, Policy

from .filters import clean_search_text


class KindsField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(choices=c.AUTHENTICATOR_CHOICES, **kwargs)


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


class OrganizationForm(forms.ModelForm):
    allowed_authenticators = KindsField(label="Methods", help_text="None selected: independent MFA is off.")

    class Meta:
        model = Organization
        fields = "__all__"


class MfaConfigForm(forms.ModelForm):
    mfa_allowed_authenticators = KindsField(label="MFA methods")


class ApplicationForm(MfaConfigForm):
    class Meta:
        model = Application
        fields = "__all__"
        widgets = {"mfa_mode": forms.RadioSelect}


class PolicyForm(MfaConfigForm):
    class Meta:
        model = Policy
        fields = "__all__"
        widgets = {"mfa_mode": forms.RadioSelect}


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
                form.add_error("value", message("aaguid_repeated", value=value))
                refused = True
            seen.add(value)
        if not refused:
            super().clean()


class KnownAuthenticatorsWidget(FilteredSelectMultiple):
    """The admin's searchable two-box chooser. SelectFilter prepends its boxes to the select's
    parent; model fields get a wrapper div from the admin, this plain form field needs its own so
    the label stays on the left. Its boxes sit one above the other at every width (the entries are
    long: AAGUID, then name), as Django's own narrow-screen layout places them."""

    class Media:
        css = {"all": ["css/admin-known-authenticators.css"]}

    def render(self, *args, **kwargs):
        return format_html('<div class="related-widget-wrapper known-authenticators">{}</div>',
                           super().render(*args, **kwargs))


def _known_authenticator_choices():
    # The AAGUID first: the FIDO metadata gives several models one name (three "YubiKey Bio Series -
    # FIDO Edition (Enterprise Profile)"), and some AAGUIDs differ only in their last characters, so
    # only the whole AAGUID tells entries apart however narrow the box cuts them. SelectFilter
    # repeats each entry in full as its title (the tooltip), and filters on both parts.
    return [(aaguid, f"{aaguid} — {description}") for aaguid, description in known_authenticators()]


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


class PolicyLink(forms.Widget):
    """An attached policy shown as a link to it: a link's policy is fixed (detach it and attach
    another), so its row needs neither a select nor the query an autocomplete makes per row."""

    def __init__(self, policy):
        super().__init__()
        self.policy = policy

    def render(self, name, value, attrs=None, renderer=None):
        url = reverse("admin:mfa_policies_policy_change", args=[self.policy.pk])
        return format_html('<a href="{}">{}</a>', url, self.policy)


class AppPolicyForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.policy_id:
            field = self.fields["policy"]
            field.disabled = True
            field.widget = PolicyLink(self.instance.policy)


class AppPolicyFormSet(forms.BaseInlineFormSet):
    """An application's attached policies, one page at a time (``per_page``, in precedence
    order), searchable by policy name — an application may hold thousands.

    A page shows only its rows; a POST names the rows it changes (their ids) and the formset
    knows exactly those, so saving one page never touches a link on another. ``params`` (the
    request's GET) carries the page and the search; the inline sets it.
    """

    per_page = 50
    params: dict = {}
    search_param, page_param = "policies_q", "policies_page"

    def get_queryset(self):
        if not hasattr(self, "_queryset"):
            # Each row's label names its application and policy: both joined, not read per row.
            queryset = (super().get_queryset().select_related("application", "policy")
                        .order_by("precedence", "pk"))
            self.search = clean_search_text(self.params.get(self.search_param))
            self.total = self.matching = None
            if self.is_bound:
                queryset = queryset.filter(pk__in=self._posted_ids())
            else:
                queryset = self._page_of(queryset)
            self._queryset = queryset
        return self._queryset

    def _posted_ids(self) -> list[int]:
        pattern = re.compile(rf"^{re.escape(self.prefix)}-\d+-id$")
        return [int(value) for key, value in self.data.items()
                if pattern.match(key) and isinstance(value, str) and value.isdigit() and len(value) < 19]

    def _page_of(self, queryset):
        self.total = queryset.count()
        if self.search:
            queryset = queryset.filter(policy__name__icontains=self.search)
            self.matching = queryset.count()
        count = self.total if self.matching is None else self.matching
        self.pages = max(1, -(-count // self.per_page))
        try:
            self.page = min(max(1, int(self.params.get(self.page_param, 1))), self.pages)
        except (TypeError, ValueError):
            self.page = 1
        self.first = (self.page - 1) * self.per_page
        page = queryset[self.first:self.first + self.per_page]
        len(page)  # evaluated once: the rows, their forms and the template read the same list
        return page

    def page_url(self, page: int, *, search: bool = True) -> str:
        params = {key: self.params[key] for key in ("_changelist_filters",) if self.params.get(key)}
        if self.search and search:
            params[self.search_param] = self.search
        if page > 1:
            params[self.page_param] = page
        return f"?{urlencode(params)}" if params else "?"

    def pager(self) -> dict | None:
        """What the page shows above the rows: counts, the search and the page links (``None``
        on a POST's re-rendered rows, which are the rows posted)."""
        self.get_queryset()
        if self.total is None:
            return None
        shown = len(self.get_queryset())
        return {
            "total": self.total, "matching": self.matching, "search": self.search,
            "first": self.first + 1 if shown else 0, "last": self.first + shown,
            "page": self.page, "pages": self.pages, "search_param": self.search_param,
            "changelist_filters": self.params.get("_changelist_filters", ""),
            "previous_url": self.page_url(self.page - 1) if self.page > 1 else "",
            "next_url": self.page_url(self.page + 1) if self.page < self.pages else "",
            "clear_url": self.page_url(1, search=False) if self.search else "",
        }
