from django.urls import path

from . import views

app_name = "mfa"

urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("verify/recovery/", views.recovery_code, name="recovery"),
    path("verify/webauthn/options/", views.webauthn_options, name="webauthn_options"),
    path("verify/webauthn/verify/", views.webauthn_verify, name="webauthn_verify"),
    path("enroll-later/", views.enroll_later, name="enroll_later"),
]
