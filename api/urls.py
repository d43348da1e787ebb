from django.urls import path, re_path

from . import views

app_name = "api"

_account = "accounts/<str:account_id>/"

urlpatterns = [
    path(_account + "access/organizations", views.organizations, name="organizations"),
    path(_account + "gateway/lists", views.aaguid_lists, name="lists"),
    path(_account + "gateway/lists/<str:list_id>", views.aaguid_list_detail, name="list"),
    path(_account + "access/users", views.users, name="users"),
    path(_account + "access/users/<str:user_id>/mfa_authenticators", views.user_authenticators,
         name="user_authenticators"),
    path(_account + "access/users/<str:user_id>/mfa_authenticators/<str:authenticator_id>",
         views.user_authenticator_detail, name="user_authenticator"),
    path(_account + "access/apps", views.applications, name="apps"),
    path(_account + "access/apps/<str:app_id>", views.application_detail, name="app"),
    path(_account + "access/policies", views.policies, name="policies"),
    path(_account + "access/policies/<str:policy_id>", views.policy_detail, name="policy"),
    re_path(r"^(?P<path>.*)$", views.unknown),
]
