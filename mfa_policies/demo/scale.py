"""The load generator behind ``manage.py seed_scale``: many organizations, users, applications,
policies and the rows every admin page lists, written with ``bulk_create`` in batches.

It bypasses the audited services on purpose (a service call per row would take hours at this
size): rows are written as they are, without ``full_clean()`` and without an audit row each.
One ``scale.seed`` audit event records the run. It is for measuring (``bench/admin_pages.py``,
``tests/admin/test_admin_query_counts.py``), never for a deployment that holds real data:
:func:`foreign_data` tells the command what is there that neither the demo nor a previous run
wrote, and the command refuses to run over it without ``--force``.

Every row carries its run's prefix (``<prefix>.scale.invalid`` domains, ``<prefix>-`` keys), so
runs with different prefixes never collide.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import models, transaction

from accounts.audit import audit_record
from accounts.models import AuditEvent
from enrollment import totp
from enrollment.models import Authenticator
from mfa_policies import clock
from mfa_policies import constants as c
from mfa_policies.models import (AaguidItem, AaguidList, AppPolicy, Application, Connection, Membership, Organization,
                                 Policy, Role)
from mfa_policies.services import configuration_changed

DOMAIN = "scale.invalid"  # RFC 2606: never a real domain
DEMO_ORGANIZATION = ("Demo", "demo.localhost")  # name, auth_domain of seed_demo's organization
DEMO_EMAIL_DOMAIN = "demo.test"
BATCH = 5_000
PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9]{0,15}$")


@dataclass(frozen=True)
class ScaleSizes:
    """How many rows of each kind one run writes. The defaults are issue 8's scale."""

    organizations: int = 10_000
    users: int = 100_000  # each a member of one organization, with one role and an e-mail address
    applications: int = 20_000  # each with up to two policies of its organization attached
    policies: int = 50_000
    big_app_policies: int = 2_000  # policies attached to one application ("Big app"); 0: none
    roles: int = 200
    connections: int = 50  # enterprise (OIDC and SAML) connections
    aaguid_lists: int = 1_000  # three items each; organizations require them in turn
    audit_events: int = 100_000
    security_keys: int = 10_000  # WebAuthn authenticators, one per user from the first
    totp_devices: int = 1_000  # through enrollment.totp.create_device, one insert each
    groups: int = 50
    social_apps: int = 10  # allauth OpenID Connect apps, one per enterprise connection at most
    social_accounts: int = 5_000  # each with a token

    @classmethod
    def uniform(cls, n: int) -> ScaleSizes:
        """``n`` rows of everything (half of the policies attached to the big application)."""
        return cls(**{name: n for name in asdict(cls())}).with_big_app(n // 2)

    def with_big_app(self, n: int) -> ScaleSizes:
        return replace(self, big_app_policies=n)

    def problems(self) -> list[str]:
        out = [f"{name} must be 0 or more" for name, value in asdict(self).items() if value < 0]
        needs_org = ("applications", "policies", "users", "aaguid_lists")
        if not self.organizations and any(getattr(self, name) for name in needs_org):
            out.append(f"{', '.join(needs_org)} need at least one organization")
        return out

    def clamped(self) -> ScaleSizes:
        """These sizes, with what depends on another size cut to fit it: at most one security key,
        TOTP device and social account per user, the big application's policies among the
        policies, one social app per enterprise connection."""
        social_apps = min(self.social_apps, self.connections)
        return replace(self, big_app_policies=min(self.big_app_policies, self.policies),
                       security_keys=min(self.security_keys, self.users),
                       totp_devices=min(self.totp_devices, self.users),
                       social_apps=social_apps, social_accounts=min(self.social_accounts, self.users) if social_apps else 0)


def prefix_domain(prefix: str) -> str:
    return f"{prefix}.{DOMAIN}"


def used_prefixes() -> set[str]:
    """The prefixes earlier runs wrote organizations or users with."""
    pattern = re.compile(rf"^(?:.*[.@])?([a-z][a-z0-9]*)\.{re.escape(DOMAIN)}$")
    domains = itertools.chain(
        Organization.objects.filter(auth_domain__endswith=f".{DOMAIN}").values_list("auth_domain", flat=True),
        get_user_model().objects.filter(email__endswith=f".{DOMAIN}").values_list("email", flat=True)[:1],
    )
    return {m.group(1) for m in map(pattern.match, domains) if m}


def prefix_problem(prefix: str) -> str | None:
    if not PREFIX_PATTERN.match(prefix):
        return f"prefix {prefix!r}: a lowercase letter then up to 15 lowercase letters or digits"
    if prefix in used_prefixes():
        return f"prefix {prefix!r} is already used by an earlier run; choose another (or leave it out)"
    return None


def free_prefix() -> str:
    used = used_prefixes()
    return next(f"s{i}" for i in itertools.count(1) if f"s{i}" not in used)


def foreign_data() -> list[str]:
    """What the database holds that neither seed_demo nor seed_scale wrote, one phrase per kind
    (empty: nothing a run could pollute)."""
    orgs = (Organization.objects.exclude(name=DEMO_ORGANIZATION[0], auth_domain=DEMO_ORGANIZATION[1])
            .exclude(auth_domain__endswith=f".{DOMAIN}"))
    users = (get_user_model().objects.exclude(email__endswith=f"@{DEMO_EMAIL_DOMAIN}")
             .exclude(email__endswith=f".{DOMAIN}"))
    found = []
    for label, queryset in (("organization", orgs), ("user", users)):
        count = queryset.count()
        if count:
            sample = ", ".join(str(obj) for obj in queryset[:3])
            found.append(f"{count} {label}{'s' if count > 1 else ''} ({sample}{', …' if count > 3 else ''})")
    return found


def _batches(rows: Iterable, size: int = BATCH) -> Iterator[list]:
    it = iter(rows)
    while batch := list(itertools.islice(it, size)):
        yield batch


def _insert(model: type[models.Model], rows: Iterable[models.Model]) -> list:
    """bulk_create in batches; the primary keys of what was written."""
    pks = []
    for batch in _batches(rows):
        pks.extend(obj.pk for obj in model.objects.bulk_create(batch))
    return pks


def _hex(nbytes: int) -> str:
    return secrets.token_hex(nbytes)


@transaction.atomic
def build(sizes: ScaleSizes, *, prefix: str, progress: Callable[[str, int, float], None] = lambda *a: None) -> dict:
    """Write one run's rows in one transaction; ``progress(kind, count, seconds)`` after each kind.
    Returns the counts written, by kind."""
    if problem := prefix_problem(prefix):
        raise ValueError(problem)
    if problems := sizes.problems():
        raise ValueError("; ".join(problems))
    sizes = sizes.clamped()
    domain = prefix_domain(prefix)
    now = clock.now()
    counts: dict[str, int] = {}

    def step(kind: str, work: Callable[[], int]):
        started = time.perf_counter()
        counts[kind] = 0  # listed before the rows written with it
        counts[kind] = work()
        progress(kind, counts[kind], time.perf_counter() - started)

    roles: list[int] = []
    connections: list[int] = []
    orgs: list[int] = []
    lists: list = []
    users: list = []
    policies_by_org: dict[int, list[int]] = {}

    def write_roles():
        roles.extend(_insert(Role, (Role(key=f"{prefix}-role-{i}", name=f"Role {i} ({prefix})")
                                    for i in range(sizes.roles))))
        return len(roles)

    def write_connections():
        kinds = (c.CONNECTION_OIDC, c.CONNECTION_SAML)
        connections.extend(_insert(Connection, (
            Connection(key=f"{prefix}-idp-{i}", name=f"IdP {i} ({prefix})", kind=kinds[i % 2],
                       provider_id=f"{prefix}-idp-{i}")
            for i in range(sizes.connections))))
        return len(connections)

    def write_organizations():
        methods = ([c.TOTP, c.SECURITY_KEY], [c.SECURITY_KEY], [c.TOTP, c.SECURITY_KEY, c.BIOMETRICS])
        orgs.extend(_insert(Organization, (
            Organization(name=f"{prefix.upper()} Org {i:05d}", auth_domain=f"o{i}.{domain}",
                         allowed_authenticators=methods[i % 3], mfa_required_for_all_apps=i % 2 == 0,
                         amr_matching_enabled=i % 4 == 0)
            for i in range(sizes.organizations))))
        through = Organization.exempt_roles.through
        exempt = _insert(through, (through(organization_id=org, role_id=roles[i % len(roles)])
                                   for i, org in enumerate(orgs) if roles and i % 3 == 0))
        through = Organization.exempt_connections.through
        exempt += _insert(through, (through(organization_id=org, connection_id=connections[i % len(connections)])
                                    for i, org in enumerate(orgs) if connections and i % 5 == 0))
        counts["organization exemptions"] = len(exempt)
        return len(orgs)

    def write_aaguid_lists():
        lists.extend(AaguidList(organization_id=orgs[i % len(orgs)], name=f"Approved keys {i}",
                                description="seed_scale") for i in range(sizes.aaguid_lists))
        _insert(AaguidList, lists)
        counts["aaguid items"] = len(_insert(AaguidItem, (
            AaguidItem(aaguid_list=aaguid_list, value=_hex(16), description=f"Key model {j}")
            for aaguid_list in lists for j in range(3))))
        # The first list of each organization is the one it requires.
        requiring = {aaguid_list.organization_id: aaguid_list.pk for aaguid_list in reversed(lists)}
        Organization.objects.bulk_update([Organization(pk=org, required_aaguids_id=aaguid_list)
                                          for org, aaguid_list in requiring.items()],
                                         ["required_aaguids"], batch_size=1_000)
        return len(lists)

    def write_policies():
        rules = [{"selector": c.SELECTOR_EMAIL_DOMAIN, "value": domain}]
        modes = (c.MODE_INHERIT, c.MODE_INHERIT, c.MODE_CUSTOM, c.MODE_DISABLED)

        def policy(i: int, org: int) -> Policy:
            mode = modes[i % 4]
            return Policy(organization_id=org, name=f"Policy {i}", decision=c.ALLOW, include=rules,
                          mfa_mode=mode, mfa_allowed_authenticators=[c.SECURITY_KEY] if mode == c.MODE_CUSTOM else [],
                          mfa_session_duration="1h" if mode == c.MODE_CUSTOM else "")

        # The big application's organization (the first) holds its policies, the rest spread evenly.
        owners = itertools.chain(itertools.repeat(orgs[0] if orgs else None, sizes.big_app_policies),
                                 (orgs[i % len(orgs)] for i in itertools.count()))
        rows = [policy(i, org) for i, org in zip(range(sizes.policies), owners)]
        for row, pk in zip(rows, _insert(Policy, rows)):
            policies_by_org.setdefault(row.organization_id, []).append(pk)
        return len(rows)

    def write_applications():
        modes = (c.MODE_INHERIT, c.MODE_INHERIT, c.MODE_CUSTOM, c.MODE_DISABLED)

        def application(i: int) -> Application:
            mode = modes[i % 4] if i else c.MODE_INHERIT
            return Application(organization_id=orgs[i % len(orgs)], name="Big app" if i == 0 else f"App {i}",
                               path_prefixes=[f"/scale/{prefix}/app-{i}/"], mfa_mode=mode,
                               mfa_allowed_authenticators=[c.SECURITY_KEY] if mode == c.MODE_CUSTOM else [],
                               mfa_session_duration="1h" if mode == c.MODE_CUSTOM else "")

        apps = _insert(Application, (application(i) for i in range(sizes.applications)))

        def links() -> Iterator[AppPolicy]:
            for i, app in enumerate(apps):
                own = policies_by_org.get(orgs[i % len(orgs)], [])
                chosen = own[: sizes.big_app_policies] if i == 0 else [own[(i + k) % len(own)] for k in range(2)] if own else []
                for precedence, policy in enumerate(dict.fromkeys(chosen), start=1):
                    yield AppPolicy(application_id=app, policy_id=policy, precedence=precedence)

        counts["attached policies"] = len(_insert(AppPolicy, links()))
        return len(apps)

    def write_users():
        password = make_password(None)  # unusable: nobody signs in as a generated user
        users.extend(_insert(get_user_model(), (
            get_user_model()(email=f"u{i:06d}@{domain}", name=f"User {i}", password=password,
                             is_staff=i % 100 == 0, date_joined=now - dt.timedelta(minutes=i))
            for i in range(sizes.users))))
        counts["email addresses"] = len(_insert(EmailAddress, (
            EmailAddress(user_id=user, email=f"u{i:06d}@{domain}", verified=True, primary=True)
            for i, user in enumerate(users))))
        memberships = _insert(Membership, (Membership(user_id=user, organization_id=orgs[i % len(orgs)])
                                           for i, user in enumerate(users)))
        through = Membership.roles.through
        _insert(through, (through(membership_id=m, role_id=roles[i % len(roles)])
                          for i, m in enumerate(memberships) if roles))
        counts["memberships"] = len(memberships)
        return len(users)

    def write_authenticators():
        keys = _insert(Authenticator, (
            Authenticator(user_id=users[i], kind=c.SECURITY_KEY, name=f"Key {i}", created_at=now,
                          credential_id=f"{prefix}-{_hex(16)}", public_key=b"\x00" * 77, aaguid=_hex(16))
            for i in range(sizes.security_keys)))
        User = get_user_model()
        devices = [totp.create_device(user=User(pk=users[-1 - i]), key_hex=totp.new_secret(), accepted_t=0,
                                      name="Phone") for i in range(sizes.totp_devices)]
        _insert(Authenticator, (Authenticator(user_id=d.user_id, kind=c.TOTP, name="Phone", created_at=now,
                                              totp_device=d) for d in devices))
        counts["totp devices"] = len(devices)
        return len(keys) + len(devices)

    def write_groups():
        groups = _insert(Group, (Group(name=f"{prefix} group {i}") for i in range(sizes.groups)))
        through = get_user_model().groups.through
        _insert(through, (through(user_id=user, group_id=groups[i % len(groups)])
                          for i, user in enumerate(users) if groups and i % 10 == 0))
        return len(groups)

    def write_social():
        apps = [SocialApp(provider="openid_connect", provider_id=f"{prefix}-idp-{i}", name=f"IdP {i} ({prefix})",
                          client_id=f"{prefix}-client-{i}", secret=_hex(16),
                          settings={"server_url": f"https://idp{i}.{domain}"}) for i in range(sizes.social_apps)]
        _insert(SocialApp, apps)
        accounts = [SocialAccount(user_id=users[i], provider=apps[i % len(apps)].provider_id, uid=f"{prefix}-{i}",
                                  extra_data={}) for i in range(sizes.social_accounts)]
        _insert(SocialAccount, accounts)
        counts["social tokens"] = len(_insert(SocialToken, (
            SocialToken(app=apps[i % len(apps)], account=account, token=_hex(16))
            for i, account in enumerate(accounts))))
        counts["social accounts"] = len(accounts)
        return len(apps)

    def write_audit_events():
        actions = ("policy.update", "application.update", "organization.update", "policy.attach", "membership.update")
        return len(_insert(AuditEvent, (
            AuditEvent(at=now - dt.timedelta(minutes=5 * i), actor_label="seed_scale", action=actions[i % 5],
                       object_type=f"mfa_policies.{actions[i % 5].split('.')[0]}", object_id=str(i),
                       object_label=f"Row {i} ({prefix})", after={"n": i})
            for i in range(sizes.audit_events))))

    step("roles", write_roles)
    step("connections", write_connections)
    step("organizations", write_organizations)
    step("aaguid lists", write_aaguid_lists)
    step("policies", write_policies)
    step("applications", write_applications)
    step("users", write_users)
    step("authenticators", write_authenticators)
    step("groups", write_groups)
    step("social apps", write_social)
    step("audit events", write_audit_events)
    configuration_changed(everything=True)  # running processes reload their application table
    audit_record(actor=None, action="scale.seed", object_type="scale", object_id=prefix,
                 object_label=f"seed_scale {prefix}", after={"sizes": asdict(sizes), "written": counts})
    return counts


def sample_object(model: type[models.Model]):
    """The row whose admin change page is heaviest: the big application, the first organization
    (its policies, exemptions and members), the first user (a security key, a group, a social
    account); otherwise the first row. ``None`` when the table is empty."""
    User = get_user_model()
    heaviest = {
        Application: lambda qs: qs.filter(name="Big app").order_by("-pk"),
        Organization: lambda qs: qs.filter(auth_domain__startswith="o0.").order_by("-pk"),
        User: lambda qs: qs.filter(email__startswith="u000000@").order_by("-pk"),
    }
    queryset = model._default_manager.all()
    return (heaviest[model](queryset).first() if model in heaviest else None) or queryset.order_by("pk").first()
