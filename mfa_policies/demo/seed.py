"""The demo data of ``manage.py seed_demo``: spec §3.5's precedence example as real rows,
plus the seed-000 exemptions, written through the audited services. Idempotent: running it again
leaves one copy, reset to these values, and :func:`demo_reset` says which rows it changed back.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.audit import audit_record
from accounts.models import AuditEvent
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
    DemoUser("other@demo.test", ("viewer",), "matches neither: authenticator app, security key or biometrics, 24h"),
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


@dataclass(frozen=True)
class DemoReset:
    """What one run of the seed wrote: ``created`` rows that were missing, ``reset`` rows changed
    back (each ``kind “label”: what``). Both empty: the demo was already as seeded."""

    organization: Organization
    created: tuple[str, ...]
    reset: tuple[str, ...]


def seed_demo() -> Organization:
    """Write (or reset) the demo; see :func:`demo_reset`."""
    return demo_reset().organization


def _user_state(user) -> dict:
    """What the seed sets on a demo user (``password``: whether it is still the demo password —
    one hash, which spares the seed setting it again)."""
    if user._state.adding:  # the primary key is a UUID set on creation, so not None
        return {}
    return {"is_active": user.is_active, "is_staff": user.is_staff, "is_superuser": user.is_superuser,
            "password": user.check_password(DEMO_PASSWORD)}


def _kind(object_type: str) -> str:
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def _changed(before: dict | None, after: dict | None) -> list[str]:
    before, after = before or {}, after or {}
    return sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))


def _summarise(events) -> tuple[list[str], list[str]]:
    """(created, reset) lines from the audit rows of one seed run, one line per object."""
    created: list[str] = []
    reset: dict[str, set[str]] = {}
    for event in events:
        _, _, verb = event.action.rpartition(".")
        if event.object_type == "mfa_policies.apppolicy":  # attached policies: reported on the application
            application = (event.after or {}).get("application") or event.object_label.split(" #")[0]
            reset.setdefault(f"application “{application}”", set()).add("attached policies")
        elif verb == "create":
            created.append(f"{_kind(event.object_type)} “{event.object_label}”")
        elif event.object_type == "mfa_policies.environment":
            reset.setdefault("environment", set()).update(_changed(event.before, event.after))
        else:
            label = f"{_kind(event.object_type)} “{event.object_label}”"
            reset.setdefault(label, set()).update(_changed(event.before, event.after) or [verb])
    new = set(created)  # a row created in this run is not also "reset" (its first policy links)
    return created, [f"{label}: {', '.join(sorted(what))}" for label, what in reset.items() if label not in new]


@transaction.atomic
def demo_reset() -> DemoReset:
    """Write the demo through the audited services (as an admin would), then one ``demo.seed``
    audit row naming the users and what was created or changed back.

    What was changed back is read from the audit rows the services wrote during this run (they
    write one only when a row differs), and for the users — which have no audited service yet —
    from a snapshot before the save.
    """
    since = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    _save(Environment, {"pk": Environment.SINGLETON_PK},
          {"mfa_requirement": c.ENV_NO, "allowed_authenticators": [c.TOTP, c.SECURITY_KEY]})
    roles = {key: _save(Role, {"key": key}, {"name": name})
             for key, name in (("admin", "Admin"), ("billing", "Billing"), ("viewer", "Viewer"))}
    _save(Connection, {"key": c.CONNECTION_PASSWORD}, {"name": "Email and password", "kind": c.CONNECTION_PASSWORD})
    _save(Connection, {"key": c.CONNECTION_EMAIL_OTP}, {"name": "One-time PIN", "kind": c.CONNECTION_EMAIL_OTP})
    okta = _save(Connection, {"key": "okta"}, {"name": "Okta", "kind": c.CONNECTION_OIDC, "provider_id": "okta"})

    # All three kinds, so seed 002's "Biometrics > Register biometrics" works out of the box.
    org = _save(Organization, {"name": "Demo"}, {
        "auth_domain": "demo.localhost", "allowed_authenticators": [c.TOTP, c.SECURITY_KEY, c.BIOMETRICS],
        "session_duration": "24h",
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
    user_lines: tuple[list[str], list[str]] = ([], [])
    for demo in DEMO_USERS:
        user = User.objects.filter(email=demo.email).first() or User(email=demo.email)
        before = _user_state(user)
        user.is_staff = user.is_superuser = demo.superuser
        user.is_active = True
        if not before.get("password"):
            user.set_password(DEMO_PASSWORD)
        user.save()
        seeded = {"is_active": True, "is_staff": demo.superuser, "is_superuser": demo.superuser, "password": True}
        if not before:
            user_lines[0].append(f"user “{demo.email}”")
        elif changed := _changed(before, seeded):
            user_lines[1].append(f"user “{demo.email}”: {', '.join(changed)}")
        membership_save(acting_user=None, user=user, organization=org, roles=[roles[key] for key in demo.roles])

    created, reset = _summarise(AuditEvent.objects.filter(id__gt=since, actor=None).order_by("id"))
    created, reset = tuple(created + user_lines[0]), tuple(reset + user_lines[1])
    # Sessions granted under the previous demo configuration re-run the login flow, even when
    # nothing above changed (the demo is reset on purpose).
    configuration_changed(organization_id=org.pk)
    audit_record(actor=None, action="demo.seed", obj=org, after={
        "users": [u.email for u in DEMO_USERS], "created": list(created), "reset": list(reset)})
    return DemoReset(organization=org, created=created, reset=reset)
