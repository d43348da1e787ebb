from django.apps import AppConfig


class MfaPoliciesConfig(AppConfig):
    name = "mfa_policies"
    verbose_name = "MFA policies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The composition root: the system checks, the runtime's receivers and the admin console.
        from . import checks  # noqa: F401
        from .access import checks as access_checks, receivers  # noqa: F401
        from .admin import model_admins  # noqa: F401
