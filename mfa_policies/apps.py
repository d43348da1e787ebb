from django.apps import AppConfig


class MfaPoliciesConfig(AppConfig):
    name = "mfa_policies"
    verbose_name = "MFA policies"
    default_auto_field = "django.db.models.BigAutoField"
