from django.urls import path, re_path

from . import views

app_name = "api"

_ID = r"(?P<{}>[^/]+)"


def _route(pattern: str, view, name: str):
    """``accounts/<account_id>/<pattern>``, with or without a trailing slash."""
    regex = "^accounts/" + _ID.format("account_id") + "/" + pattern.format(
        list_id=_ID.format("list_id"), user_id=_ID.format("user_id"), app_id=_ID.format("app_id"),
        policy_id=_ID.format("policy_id"), authenticator_id=_ID.format("authenticator_id")) + "/?$"
    return re_path(regex, view, name=name)


urlpatterns = [
    path("openapi.json", views.openapi_document, name="openapi"),
    _route("access/organizations", views.organizations, "organizations"),
    _route("gateway/lists", views.aaguid_lists, "lists"),
    _route("gateway/lists/{list_id}", views.aaguid_list_detail, "list"),
    _route("gateway/lists/{list_id}/items", views.aaguid_list_items, "list_items"),
    _route("access/users", views.users, "users"),
    _route("access/users/{user_id}", views.user_detail, "user"),
    _route("access/users/{user_id}/mfa_authenticators", views.user_authenticators, "user_authenticators"),
    _route("access/users/{user_id}/mfa_authenticators/{authenticator_id}", views.user_authenticator_detail,
           "user_authenticator"),
    _route("access/apps", views.applications, "apps"),
    _route("access/apps/{app_id}", views.application_detail, "app"),
    _route("access/apps/{app_id}/policies", views.application_policies, "app_policies"),
    _route("access/policies", views.policies, "policies"),
    _route("access/policies/{policy_id}", views.policy_detail, "policy"),
    re_path(r"^(?P<path>.*)$", views.unknown),
]
