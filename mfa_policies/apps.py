from django.apps import AppConfig


class MfaPoliciesConfig(AppConfig):
    name = "mfa_policies"
    verbose_name = "MFA policies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
