from django.urls import path

from . import views

app_name = "enrollment"

urlpatterns = [
    path("AddMfaDevice", views.add, name="add"),
    path("account/mfa-devices/", views.devices, name="devices"),
    path("account/mfa-devices/add/totp/", views.add_totp, name="add_totp"),
    path("account/mfa-devices/add/<slug:kind>/", views.add_webauthn, name="add_webauthn"),
    path("account/mfa-devices/webauthn/register/options/", views.register_options, name="register_options"),
    path("account/mfa-devices/webauthn/register/verify/", views.register_verify, name="register_verify"),
    path("account/mfa-devices/verify/", views.step_up, name="step_up"),
    path("account/mfa-devices/verify/recovery/", views.step_up_recovery, name="step_up_recovery"),
    path("account/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("account/recovery-codes/generate/", views.recovery_codes_generate, name="recovery_codes_generate"),
    path("account/mfa-devices/verify/webauthn/options/", views.step_up_options, name="step_up_options"),
    path("account/mfa-devices/verify/webauthn/verify/", views.step_up_verify, name="step_up_verify"),
    path("account/mfa-devices/<uuid:authenticator_id>/remove/", views.remove, name="remove"),
]
