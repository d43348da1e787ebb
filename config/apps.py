from django.contrib.admin.apps import AdminConfig


class MfagateAdminConfig(AdminConfig):
    """``django.contrib.admin`` with :class:`mfa_policies.admin.site.MfagateAdminSite` as ``admin.site``
    (loaded lazily, once the models are)."""

    default_site = "mfa_policies.admin.site.MfagateAdminSite"
