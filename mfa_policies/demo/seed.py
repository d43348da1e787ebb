"""The demo data of ``manage.py seed_demo``: spec §3.5's precedence example as real rows,
plus the seed-000 exemptions. Idempotent: running it again leaves one copy, reset to these values.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from mfa_policies import constants as c
from accounts.audit import audit_record

from mfa_policies.models import AppPolicy, Application, Connection, Environment, Membership, Organization, Policy, Role
from mfa_policies.services import configuration_changed

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


def _upsert(model, lookup: dict, values: dict):
    obj = model.objects.filter(**lookup).first() or model(**lookup)
    for key, value in values.items():
        setattr(obj, key, value)
    obj.full_clean()
    obj.save()
    return obj


@transaction.atomic
def seed_demo() -> Organization:
    env = Environment.load()
    env.mfa_requirement = c.ENV_NO
    env.allowed_authenticators = [c.TOTP, c.SECURITY_KEY]
    env.full_clean()
    env.save()

    roles = {
        key: _upsert(Role, {"key": key}, {"name": name})
        for key, name in (("admin", "Admin"), ("billing", "Billing"), ("viewer", "Viewer"))
    }
    _upsert(Connection, {"key": c.CONNECTION_PASSWORD}, {"name": "Email and password", "kind": c.CONNECTION_PASSWORD})
    _upsert(Connection, {"key": c.CONNECTION_EMAIL_OTP}, {"name": "One-time PIN", "kind": c.CONNECTION_EMAIL_OTP})
    okta = _upsert(Connection, {"key": "okta"}, {"name": "Okta", "kind": c.CONNECTION_OIDC, "provider_id": "okta"})

    org = Organization.objects.filter(name="Demo").first() or Organization(name="Demo")
    org.auth_domain = "demo.localhost"
    org.allowed_authenticators = [c.TOTP, c.SECURITY_KEY]
    org.session_duration = "24h"
    org.mfa_required_for_all_apps = True
    org.amr_matching_enabled = False
    org.amr_session_duration = "24h"
    org.required_aaguids = None
    org.full_clean()
    org.save()
    org.exempt_roles.set([roles["admin"]])
    org.exempt_connections.set([okta])

    policy_1 = _upsert(Policy, {"organization": org, "name": "Policy 1"}, {
        "decision": c.ALLOW, "include": [{"selector": "email", "value": "p1@demo.test"}], "require": [], "exclude": [],
        "mfa_mode": c.MODE_CUSTOM, "mfa_allowed_authenticators": [c.SECURITY_KEY], "mfa_session_duration": "1h",
    })
    policy_2 = _upsert(Policy, {"organization": org, "name": "Policy 2"}, {
        "decision": c.ALLOW, "include": [{"selector": "email", "value": "p2@demo.test"}], "require": [], "exclude": [],
        "mfa_mode": c.MODE_DISABLED, "mfa_allowed_authenticators": [], "mfa_session_duration": "",
    })
    everyone = _upsert(Policy, {"organization": org, "name": "Everyone"}, {
        "decision": c.ALLOW, "include": [{"selector": "everyone", "value": ""}], "require": [], "exclude": [],
        "mfa_mode": c.MODE_INHERIT, "mfa_allowed_authenticators": [], "mfa_session_duration": "",
    })
    app_a = _upsert(Application, {"organization": org, "name": "Application A"}, {
        "path_prefixes": ["/demo/a/"], "session_duration": "24h", "mfa_mode": c.MODE_INHERIT,
        "mfa_allowed_authenticators": [], "mfa_session_duration": "",
    })
    app_b = _upsert(Application, {"organization": org, "name": "Application B"}, {
        "path_prefixes": ["/demo/b/"], "session_duration": "24h", "mfa_mode": c.MODE_DISABLED,
        "mfa_allowed_authenticators": [], "mfa_session_duration": "",
    })
    # The admin console is an application too (SECURITY row 16): admins only, and custom MFA so the
    # exempt admin role does not weaken it.
    admins = _upsert(Policy, {"organization": org, "name": "Admins"}, {
        "decision": c.ALLOW, "include": [{"selector": "role", "value": "admin"}], "require": [], "exclude": [],
        "mfa_mode": c.MODE_INHERIT, "mfa_allowed_authenticators": [], "mfa_session_duration": "",
    })
    console = _upsert(Application, {"organization": org, "name": "Admin console"}, {
        "path_prefixes": ["/admin/"], "session_duration": "8h", "mfa_mode": c.MODE_CUSTOM,
        "mfa_allowed_authenticators": [c.TOTP, c.SECURITY_KEY], "mfa_session_duration": "12h",
    })
    AppPolicy.objects.filter(application__in=[app_a, app_b, console]).delete()
    AppPolicy.objects.create(application=console, policy=admins, precedence=1)
    for precedence, policy in enumerate((policy_1, policy_2, everyone), start=1):
        AppPolicy.objects.create(application=app_a, policy=policy, precedence=precedence)
    AppPolicy.objects.create(application=app_b, policy=everyone, precedence=1)

    User = get_user_model()
    for demo in DEMO_USERS:
        user = User.objects.filter(email=demo.email).first() or User(email=demo.email)
        user.is_staff = user.is_superuser = demo.superuser
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        membership, _ = Membership.objects.get_or_create(user=user, organization=org)
        membership.roles.set([roles[key] for key in demo.roles])

    # Sessions granted under the previous demo configuration re-run the login flow.
    configuration_changed(organization_id=org.pk)
    audit_record(actor=None, action="demo.seed", obj=org, after={"users": [u.email for u in DEMO_USERS]})
    return org
