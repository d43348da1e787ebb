"""Reads for the App Launcher and the enrollment portal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mfa_policies import constants as c
from mfa_policies.models import AaguidItem, Application, Membership, Organization, Policy
from mfa_policies.resolution import SignIn, effective_methods, ordered_kinds, resolve
from mfa_policies.selectors import access_requests_for_user, environment_settings

from .models import Authenticator


def devices_for(user) -> list[Authenticator]:
    return list(Authenticator.objects.filter(user=user).order_by("created_at"))


def device_of(user, authenticator_id) -> Authenticator | None:
    """``user``'s authenticator ``authenticator_id`` (a UUID from the URL), or ``None`` when it is
    someone else's or gone."""
    return Authenticator.objects.filter(user=user, pk=authenticator_id).first()


def enrolled_kinds(user) -> frozenset[str]:
    """The kinds of the user's authenticators (the resolver's ``enrolled_kinds``): one query."""
    return frozenset(Authenticator.objects.filter(user=user).order_by().values_list("kind", flat=True).distinct())


def has_devices(user) -> bool:
    return Authenticator.objects.filter(user=user).exists()


def organizations_for(user) -> list[Organization]:
    ids = Membership.objects.filter(user=user).values_list("organization_id", flat=True)
    return list(Organization.objects.filter(pk__in=ids).order_by("name"))


def offered_kinds(user) -> list[str]:
    """The union of the effective allowed kinds of the user's organizations, canonical order.

    Per organization: its ``allowed_authenticators`` (or the environment's default methods when
    it has none and the environment requires MFA), plus the kinds of its applications' and
    policies' ``custom`` MFA settings.
    """
    orgs = organizations_for(user)
    if not orgs:
        return []
    environment = environment_settings()
    kinds: set[str] = set()
    for org in orgs:
        kinds.update(effective_methods(environment, frozenset(org.allowed_authenticators or ()))[0])
    org_ids = [o.pk for o in orgs]
    for model in (Application, Policy):
        for allowed in model.objects.filter(organization_id__in=org_ids, mfa_mode=c.MODE_CUSTOM).values_list(
            "mfa_allowed_authenticators", flat=True
        ):
            kinds.update(allowed or ())
    return list(ordered_kinds(kinds))


def required_aaguid_lists(user) -> list[tuple[str, frozenset[str]]]:
    """``(list name, AAGUIDs)`` for each of the user's organizations that restricts models."""
    orgs = [o for o in organizations_for(user) if o.required_aaguids_id]
    lists: dict = {}
    for org in orgs:
        lists.setdefault(org.required_aaguids_id, f"{org.name}: {org.required_aaguids.name}")
    values: dict = {list_id: set() for list_id in lists}
    for list_id, value in AaguidItem.objects.filter(aaguid_list_id__in=list(lists)).values_list("aaguid_list_id", "value"):
        values[list_id].add(value)
    return [(lists[list_id], frozenset(values[list_id])) for list_id in lists]


@dataclass(frozen=True)
class LauncherApp:
    name: str
    organization: str
    url: str


def launcher_apps(user, *, sign_in: SignIn, now: dt.datetime) -> list[LauncherApp]:
    """Applications whose policies would let ``user`` in (allow or bypass), by the real resolver."""
    return [
        LauncherApp(name=app.name, organization=app.organization.name, url=app.path_prefixes[0])
        for app, request in access_requests_for_user(user=user, sign_in=sign_in, enrolled_kinds=enrolled_kinds(user),
                                                     now=now)
        if app.path_prefixes and resolve(request).allowed
    ]
