from django.apps import AppConfig


class MfaPoliciesConfig(AppConfig):
    name = "mfa_policies"
    verbose_name = "MFA policies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The composition root: the system checks, and the runtime's receivers.
        from . import checks  # noqa: F401
        from .access import checks as access_checks, receivers  # noqa: F401
