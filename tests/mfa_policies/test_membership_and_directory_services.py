"""Memberships, roles and connections change through audited services that make the affected app
sessions re-run the login flow (their decisions depend on roles and connection keys)."""

from __future__ import annotations

from accounts.models import AuditEvent
from mfa_policies import constants as c
from mfa_policies.models import Application, Membership
from mfa_policies.services import configuration_save, membership_save


def _versions(*apps):
    return [Application.objects.get(pk=a.pk).config_version for a in apps]


def test_membership_save_sets_exactly_the_roles_audits_and_revokes_the_organizations_sessions(
        make_org, make_app, make_user, make_role):
    org, other_org = make_org(), make_org("Other")
    app, elsewhere = make_app(org), make_app(other_org, "Elsewhere")
    admin, user = make_user("admin@example.test"), make_user()
    billing, viewer = make_role("billing"), make_role("viewer")
    before = _versions(app, elsewhere)

    membership_save(acting_user=admin, user=user, organization=org, roles=[billing, viewer])
    membership = Membership.objects.get(user=user, organization=org)
    assert sorted(membership.roles.values_list("key", flat=True)) == ["billing", "viewer"]
    created = AuditEvent.objects.get(action="membership.create")
    assert (created.actor, created.subject_user, created.after) == (admin, user, {"roles": ["billing", "viewer"]})

    membership_save(acting_user=admin, user=user, organization=org, roles=[viewer])
    updated = AuditEvent.objects.get(action="membership.update")
    assert (updated.before, updated.after) == ({"roles": ["billing", "viewer"]}, {"roles": ["viewer"]})
    after = _versions(app, elsewhere)
    assert after[0] == before[0] + 2 and after[1] == before[1], "only the organization's applications"


def test_an_unchanged_membership_writes_no_audit_row(make_org, make_user, make_role):
    org, user, viewer = make_org(), make_user(), make_role("viewer")
    membership_save(acting_user=None, user=user, organization=org, roles=[viewer])
    membership_save(acting_user=None, user=user, organization=org, roles=[viewer])
    assert AuditEvent.objects.filter(action__startswith="membership.").count() == 1


def test_role_and_connection_changes_are_audited_and_revoke_every_app_session(make_org, make_app, make_user,
                                                                              make_role, make_connection):
    """Environment-wide changes: they raise the environment generation every app session carries
    (tests/access/test_enforcement_rules.py shows the sessions re-running), not each application's
    ``config_version`` — no application row changes, so no process reloads its table."""
    from mfa_policies import generation

    app = make_app(make_org())
    role, connection = make_role("billing"), make_connection("okta", c.CONNECTION_OIDC)
    version = _versions(app)[0]
    environment = generation.configuration_state()[1]
    role.name = "Billing team"
    configuration_save(acting_user=make_user(), instance=role)
    after_role = generation.configuration_state()[1]
    connection.kind = c.CONNECTION_SAML
    configuration_save(acting_user=None, instance=connection)
    assert AuditEvent.objects.filter(action__in=["role.update", "connection.update"]).count() == 2
    assert environment < after_role < generation.configuration_state()[1]
    assert _versions(app)[0] == version
