"""The demo data of ``manage.py seed_demo``: spec §3.5's precedence example as real rows,
plus the seed-000 exemptions, written through the audited services. Idempotent: running it again
leaves one copy, reset to these values.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.audit import audit_record
from mfa_policies import constants as c
from mfa_policies.models import Application, Connection, Environment, Organization, Policy, Role
from mfa_policies.services import application_save, configuration_changed, configuration_save, membership_save

DEMO_PASSWORD = "demo-password"


@dataclass(frozen=True)
class DemoUser:
    email: str
    roles: tuple[str, ...]
    note: str
    superuser: bool = False


DEMO_USERS = (
    DemoUser("p1@demo.test", ("viewer",), "matches Policy 1 on Application A: security key only, every hour"),
    DemoUser("p2@demo.test", ("viewer",), "matches Policy 2 on Application A: no MFA prompt"),
    DemoUser("other@demo.test", ("viewer",), "matches neither: authenticator app or security key, 24h"),
    DemoUser("mixed@demo.test", ("admin", "billing"), "exempt admin + non-exempt billing role: MFA applies"),
    DemoUser("admin@demo.test", ("admin",), "superuser; exempt role, but the Admin console (/admin/) "
             "has custom MFA: enroll at /AddMfaDevice first", True),
)


def _save(model, lookup: dict, values: dict, **extra):
    """The row ``lookup`` finds (or a new one) with ``values``, saved through the audited service."""
    obj = model.objects.filter(**lookup).first() or model(**lookup)
    for key, value in values.items():
        setattr(obj, key, value)
    return configuration_save(acting_user=None, instance=obj, **extra)


@transaction.atomic
def seed_demo() -> Organization:
    """Write the demo through the audited services (as an admin would), then one ``demo.seed``
    audit row naming the users."""
    _save(Environment, {"pk": Environment.SINGLETON_PK},
          {"mfa_requirement": c.ENV_NO, "allowed_authenticators": [c.TOTP, c.SECURITY_KEY]})
    roles = {key: _save(Role, {"key": key}, {"name": name})
             for key, name in (("admin", "Admin"), ("billing", "Billing"), ("viewer", "Viewer"))}
    _save(Connection, {"key": c.CONNECTION_PASSWORD}, {"name": "Email and password", "kind": c.CONNECTION_PASSWORD})
    _save(Connection, {"key": c.CONNECTION_EMAIL_OTP}, {"name": "One-time PIN", "kind": c.CONNECTION_EMAIL_OTP})
    okta = _save(Connection, {"key": "okta"}, {"name": "Okta", "kind": c.CONNECTION_OIDC, "provider_id": "okta"})

    org = _save(Organization, {"name": "Demo"}, {
        "auth_domain": "demo.localhost", "allowed_authenticators": [c.TOTP, c.SECURITY_KEY], "session_duration": "24h",
        "mfa_required_for_all_apps": True, "amr_matching_enabled": False, "amr_session_duration": "24h",
        "required_aaguids": None,
    }, m2m={"exempt_roles": [roles["admin"]], "exempt_connections": [okta]})

    def policy(name, **values):
        return _save(Policy, {"organization": org, "name": name}, {
            "decision": c.ALLOW, "require": [], "exclude": [], "mfa_mode": c.MODE_INHERIT,
            "mfa_allowed_authenticators": [], "mfa_session_duration": "", **values})

    policy_1 = policy("Policy 1", include=[{"selector": "email", "value": "p1@demo.test"}], mfa_mode=c.MODE_CUSTOM,
                      mfa_allowed_authenticators=[c.SECURITY_KEY], mfa_session_duration="1h")
    policy_2 = policy("Policy 2", include=[{"selector": "email", "value": "p2@demo.test"}], mfa_mode=c.MODE_DISABLED)
    everyone = policy("Everyone", include=[{"selector": "everyone", "value": ""}])
    # The admin console is an application too (SECURITY row 16): admins only, and custom MFA so the
    # exempt admin role does not weaken it.
    admins = policy("Admins", include=[{"selector": "role", "value": "admin"}])

    def application(name, policies, **values):
        app = Application.objects.filter(organization=org, name=name).first() or Application(organization=org, name=name)
        for key, value in {"session_duration": "24h", "mfa_mode": c.MODE_INHERIT, "mfa_allowed_authenticators": [],
                           "mfa_session_duration": "", **values}.items():
            setattr(app, key, value)
        return application_save(acting_user=None, instance=app,
                                policies=[(p, precedence) for precedence, p in enumerate(policies, start=1)])

    application("Application A", [policy_1, policy_2, everyone], path_prefixes=["/demo/a/"])
    application("Application B", [everyone], path_prefixes=["/demo/b/"], mfa_mode=c.MODE_DISABLED)
    application("Admin console", [admins], path_prefixes=["/admin/"], session_duration="8h", mfa_mode=c.MODE_CUSTOM,
                mfa_allowed_authenticators=[c.TOTP, c.SECURITY_KEY], mfa_session_duration="12h")

    # Accounts have no audited service yet: the demo.seed row below records them.
    User = get_user_model()
    for demo in DEMO_USERS:
        user = User.objects.filter(email=demo.email).first() or User(email=demo.email)
        user.is_staff = user.is_superuser = demo.superuser
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        membership_save(acting_user=None, user=user, organization=org, roles=[roles[key] for key in demo.roles])

    # Sessions granted under the previous demo configuration re-run the login flow, even when
    # nothing above changed (the demo is reset on purpose).
    configuration_changed(organization_id=org.pk)
    audit_record(actor=None, action="demo.seed", obj=org, after={"users": [u.email for u in DEMO_USERS]})
    return org
