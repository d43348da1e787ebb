from django.urls import path

from . import mfa_views

app_name = "mfa"

urlpatterns = [
    path("verify/", mfa_views.verify, name="verify"),
    path("verify/webauthn/options/", mfa_views.webauthn_options, name="webauthn_options"),
    path("verify/webauthn/verify/", mfa_views.webauthn_verify, name="webauthn_verify"),
]
