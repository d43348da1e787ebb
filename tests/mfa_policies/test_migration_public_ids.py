"""Migration 0005 gives existing applications and policies their own UUID public ids and keeps every
row and link; migrating back drops the column and keeps them too (both databases)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("mfa_policies", "0004_connection_provider_id_unique"), ("api", "0001_initial")]
AFTER = [("mfa_policies", "0005_public_ids"), ("api", "0002_stored_fields")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _migrate_to_latest():
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def _links(apps):
    AppPolicy = apps.get_model("mfa_policies", "AppPolicy")
    return sorted(AppPolicy.objects.values_list("application__name", "policy__name", "precedence"))


@pytest.mark.django_db(transaction=True)
def test_existing_rows_get_distinct_public_ids_and_keep_their_links_both_ways():
    try:
        apps = _migrate(BEFORE)
        Organization = apps.get_model("mfa_policies", "Organization")
        Application = apps.get_model("mfa_policies", "Application")
        Policy = apps.get_model("mfa_policies", "Policy")
        AppPolicy = apps.get_model("mfa_policies", "AppPolicy")
        org = Organization.objects.create(name="Old", account_id="a" * 32)
        old_apps = [Application.objects.create(organization=org, name=f"App {i}", path_prefixes=[f"/a{i}/"])
                    for i in range(3)]
        old_policies = [Policy.objects.create(organization=org, name=f"Policy {i}",
                                              include=[{"selector": "everyone", "value": ""}]) for i in range(4)]
        for i, app in enumerate(old_apps):
            for j, policy in enumerate(old_policies[i:i + 2]):
                AppPolicy.objects.create(application=app, policy=policy, precedence=j + 1)
        app_pks = sorted(a.pk for a in old_apps)
        policy_pks = sorted(p.pk for p in old_policies)
        links = _links(apps)

        apps = _migrate(AFTER)
        Application = apps.get_model("mfa_policies", "Application")
        Policy = apps.get_model("mfa_policies", "Policy")
        app_ids = dict(Application.objects.values_list("pk", "public_id"))
        policy_ids = dict(Policy.objects.values_list("pk", "public_id"))
        assert sorted(app_ids) == app_pks and sorted(policy_ids) == policy_pks
        public = list(app_ids.values()) + list(policy_ids.values())
        assert None not in public and len(set(public)) == len(public)
        assert _links(apps) == links
        new = Application.objects.create(organization_id=org.pk, name="New")
        assert new.public_id and new.public_id not in public

        apps = _migrate(BEFORE)
        assert _links(apps) == links
        Application = apps.get_model("mfa_policies", "Application")
        assert "public_id" not in {f.name for f in Application._meta.get_fields()}
        assert sorted(Application.objects.exclude(name="New").values_list("pk", flat=True)) == app_pks
    finally:
        _migrate_to_latest()  # every later migration too, or the next tests miss their columns
