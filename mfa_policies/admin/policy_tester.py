"""The policy tester (Applications → Policy tester): user + application + connection + amr → the
decision and its trail, from the same :func:`~mfa_policies.access.explain.explain` as
``manage.py explain_access``. Read-only."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from mfa_policies import clock
from mfa_policies.access.explain import decision_as_dict, explain, grace_text
from mfa_policies.messages import message
from mfa_policies.models import Application, Connection


class PolicyTesterForm(forms.Form):
    email = forms.EmailField(label="User's email")
    application = forms.ModelChoiceField(queryset=Application.objects.select_related("organization"))
    connection = forms.ModelChoiceField(queryset=Connection.objects.all(), to_field_name="key",
                                        help_text="How the user signed in.")
    amr = forms.CharField(label="IdP amr values", required=False,
                          help_text="Comma-separated, as the identity provider reports them, e.g. pwd,hwk.")

    def clean_email(self):
        email = self.cleaned_data["email"]
        user = get_user_model().objects.filter(email__iexact=email).first()
        if user is None:
            raise forms.ValidationError(message("tester_no_user", email=email))
        self.cleaned_data["user"] = user
        return email

    def clean_amr(self):
        values = tuple(v.strip() for v in self.cleaned_data["amr"].split(",") if v.strip())
        if len(values) > 20 or any(len(v) > 64 for v in values):
            raise forms.ValidationError(message("tester_amr_limits"))
        return values



def policy_tester_view(model_admin, request):
    """The tester page, under ``model_admin`` (the Application admin) and its view permission."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    form = PolicyTesterForm(request.GET or None)
    result = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        decision = explain(user=data["user"], application=data["application"],
                           connection=data["connection"].key, amr=data["amr"], now=clock.now())
        result = decision_as_dict(decision, application=data["application"].name, email=data["user"].email)
        result["grace_text"] = grace_text(decision.grace) if decision.grace is not None else ""
    context = {**model_admin.admin_site.each_context(request), "title": "Policy tester", "form": form,
               "result": result, "opts": model_admin.model._meta}
    return TemplateResponse(request, "admin/mfa_policies/policy_tester.html", context)
