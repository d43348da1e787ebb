"""The admin console is a real AdminSite (no monkey-patching), holding every mfagate ModelAdmin."""

from __future__ import annotations

from django.contrib import admin

from mfa_policies.admin.site import MfagateAdminSite
from mfa_policies.models import AaguidList, Application, Connection, Environment, Membership, Organization, Policy, Role


def test_admin_site_is_mfagates_own_site_class():
    assert isinstance(admin.site, MfagateAdminSite)  # the lazy default site resolves to it
    assert "get_app_list" not in vars(admin.site), "the site's behaviour is its class's, not a patched attribute"
    assert admin.site.site_header == "mfagate admin console"


def test_every_configuration_model_is_registered_on_that_site():
    for model in (Environment, Organization, Application, Policy, AaguidList, Role, Connection, Membership):
        assert model in admin.site._registry, model


def test_the_index_links_environment_to_its_one_page(admin_client):
    response = admin_client.get("/admin/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Environment: multi-factor auth" in body
    assert f'href="/admin/mfa_policies/environment/{Environment.SINGLETON_PK}/change/"' in body
