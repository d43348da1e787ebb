from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = "MFA devices"
    default_auto_field = "django.db.models.BigAutoField"
