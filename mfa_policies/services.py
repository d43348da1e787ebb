"""Writes to the MFA configuration. Each takes the acting user, runs atomically, validates
through the models' ``full_clean`` (so :mod:`mfa_policies.validation` speaks), audits, and
raises the configuration version of every application the change governs.
"""

from __future__ import annotations

import json
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.forms.models import model_to_dict

from accounts.audit import audit_record

from . import generation, resolution, validation
from .messages import message
from .models import (AaguidItem, AaguidList, AppPolicy, Application, Connection, EnrollmentGraceUse, Environment,
                     Membership, Organization, Policy, Role)

log = logging.getLogger("mfagate.services")


def _snapshot(instance) -> dict:
    """The editable fields as JSON values; related objects by primary key."""
    out = {}
    for name, value in model_to_dict(instance).items():
        if isinstance(value, (list, tuple)) and value and hasattr(value[0], "pk"):
            value = sorted(str(item.pk) for item in value)
        out[name] = value
    return json.loads(json.dumps(out, default=str))


def configuration_changed(*, application_ids=None, organization_id=None, organization_ids=(), everything=False,
                          environment_wide=False) -> None:
    """Raise the ``config_version`` of the applications a change governs, and record the change.

    App sessions remember the version they were granted under; a higher version makes them re-run
    the login flow (spec §3.4). The configuration generation (:mod:`.generation`) records which
    organizations changed — those of the applications, ``organization_id`` and ``organization_ids``
    (e.g. the ones a deleted application belonged to) — so every process reloads just those.

    ``environment_wide``: a change every application's login flow reads but no application row
    holds (the environment, a role, a connection). It raises the **environment generation** instead,
    which every app session also carries: each re-runs the login flow, and no process reloads its
    table. ``everything``: every application's version, and every process reloads everything (writes
    that bypassed the services).
    """
    if environment_wide and not everything:
        generation.configuration_bump(environment=True)
        return
    apps = Application.objects.all()
    orgs = set(organization_ids)
    if not everything:
        if organization_id is not None:
            apps = apps.filter(organization_id=organization_id)
            orgs.add(organization_id)
        elif application_ids is not None:
            apps = apps.filter(pk__in=list(application_ids))
            if application_ids:
                orgs.update(apps.values_list("organization_id", flat=True).distinct())
        elif not orgs:
            return
        else:
            apps = apps.none()
    apps.update(config_version=F("config_version") + 1)
    generation.configuration_bump(organization_ids=orgs, everything=everything)


@transaction.atomic
def configuration_save(*, acting_user, instance, m2m: dict | None = None, ip_address: str | None = None):
    """Validate and save an Environment, Organization, Application, Policy, Role or Connection, with its
    audit row.

    ``m2m`` maps many-to-many field names to the new sets (e.g. ``{"exempt_roles": [...]}``);
    they are written after the row. Raises ``ValidationError`` (naming fields) and writes nothing.
    """
    model = type(instance)
    before = None
    if instance.pk is not None and model.objects.filter(pk=instance.pk).exists():
        before = _snapshot(model.objects.get(pk=instance.pk))
    instance.full_clean()
    if isinstance(instance, Organization) and "exempt_connections" in (m2m or {}):
        validation.raise_if_errors(validation.exempt_connections_errors(m2m["exempt_connections"]))
    unchanged_so_far = transaction.savepoint()
    instance.save()
    for name, values in (m2m or {}).items():
        getattr(instance, name).set(values)
    after = _snapshot(instance)
    if before == after:  # nothing changed: not even ``updated_at`` moves
        transaction.savepoint_rollback(unchanged_so_far)
        if hasattr(instance, "updated_at"):
            instance.updated_at = model.objects.filter(pk=instance.pk).values_list("updated_at", flat=True).first()
        return instance
    transaction.savepoint_commit(unchanged_so_far)
    audit_record(
        actor=acting_user, action=f"{model._meta.model_name}.{'update' if before else 'create'}", obj=instance,
        ip_address=ip_address, before=before, after=after,
    )
    if isinstance(instance, Environment):
        configuration_changed(environment_wide=True)
    elif isinstance(instance, Organization):
        configuration_changed(organization_id=instance.pk)
    elif isinstance(instance, Application):
        configuration_changed(application_ids=[instance.pk],
                              organization_ids=[before["organization"]] if before else ())
    elif isinstance(instance, Policy):
        configuration_changed(application_ids=list(instance.app_policies.values_list("application_id", flat=True)))
    elif isinstance(instance, (Role, Connection)):
        # Rules and exemptions name roles and connections by key, in any organization.
        configuration_changed(environment_wide=True)
    return instance


@transaction.atomic
def membership_save(*, acting_user, user, organization: Organization, roles, ip_address: str | None = None) -> Membership:
    """Make ``user`` a member of ``organization`` with exactly ``roles``, with its audit row. The
    organization's app sessions re-run the login flow (roles decide policies and exemptions)."""
    membership = Membership.objects.filter(user=user, organization=organization).first()
    before = {"roles": sorted(membership.roles.values_list("key", flat=True))} if membership else None
    if membership is None:
        membership = Membership(user=user, organization=organization)
        membership.full_clean()
        membership.save()
    membership.roles.set(roles)
    after = {"roles": sorted(role.key for role in roles)}
    if before != after:
        audit_record(actor=acting_user, action=f"membership.{'update' if before else 'create'}", obj=membership,
                     subject_user=user, ip_address=ip_address, before=before, after=after)
        configuration_changed(organization_id=organization.pk)
    return membership


@transaction.atomic
def membership_delete(*, acting_user, membership: Membership, ip_address: str | None = None) -> None:
    """End a membership, with its audit row; the organization's app sessions re-run the login flow."""
    before = {"roles": sorted(membership.roles.values_list("key", flat=True))}
    label, object_id, user, org_id = str(membership)[:254], str(membership.pk), membership.user, membership.organization_id
    membership.delete()
    audit_record(actor=acting_user, action="membership.delete", object_type=Membership._meta.label_lower,
                 object_id=object_id, object_label=label, subject_user=user, ip_address=ip_address, before=before)
    configuration_changed(organization_id=org_id)


def _aaguid_list_snapshot(aaguid_list: AaguidList) -> dict:
    return {"name": aaguid_list.name, "description": aaguid_list.description,
            "organization": aaguid_list.organization_id,
            "items": {item.value: item.description for item in aaguid_list.items.order_by("value")}}


@transaction.atomic
def aaguid_list_save(*, acting_user, aaguid_list: AaguidList, items, ip_address: str | None = None) -> AaguidList:
    """Save an AAGUID list with exactly ``items`` (``(value, description)`` pairs), with its audit row.

    Values are normalised (dashes, case); a malformed or repeated value raises ``ValidationError``
    on ``items`` and writes nothing. AAGUID rules apply at enrollment only (seed 002), so saving a
    list — even an organization's ``required_aaguids`` — revokes no session and bumps no version.
    """
    items = list(items)
    wanted: dict[str, str] = {}
    errors: list[str] = []
    if len(items) > validation.MAX_AAGUID_ITEMS:
        errors.append(message("aaguid_items_too_many", count=len(items), limit=validation.MAX_AAGUID_ITEMS))
        items = []
    for value, description in items:
        try:
            value = validation.normalize_aaguid(value)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        if value in wanted:
            errors.append(message("aaguid_repeated", value=value))
        wanted[value] = (description or "").strip()
    validation.raise_if_errors({"items": errors} if errors else {})
    before = None
    if aaguid_list.pk is not None and AaguidList.objects.filter(pk=aaguid_list.pk).exists():
        before = _aaguid_list_snapshot(AaguidList.objects.get(pk=aaguid_list.pk))
    aaguid_list.full_clean()
    aaguid_list.save()
    aaguid_list.items.exclude(value__in=list(wanted)).delete()
    existing = {item.value: item for item in aaguid_list.items.all()}
    for value, description in wanted.items():
        item = existing.get(value) or AaguidItem(aaguid_list=aaguid_list, value=value)
        if item.pk is None or item.description != description:
            item.description = description
            item.full_clean()
            item.save()
    after = _aaguid_list_snapshot(aaguid_list)
    if before != after:
        audit_record(actor=acting_user, action=f"aaguidlist.{'update' if before else 'create'}", obj=aaguid_list,
                     ip_address=ip_address, before=before, after=after)
    return aaguid_list


@transaction.atomic
def policy_attach(*, acting_user, application: Application, policy: Policy, precedence: int,
                  ip_address: str | None = None) -> AppPolicy:
    """Attach ``policy`` to ``application`` at ``precedence`` (or move it there)."""
    link = AppPolicy.objects.filter(application=application, policy=policy).first()
    before = {"precedence": link.precedence} if link else None
    if link is None:
        link = AppPolicy(application=application, policy=policy, precedence=precedence)
    link.precedence = precedence
    link.full_clean()
    link.save()
    if before != {"precedence": precedence}:
        audit_record(actor=acting_user, action="policy.attach", obj=link, ip_address=ip_address,
                     before=before, after={"application": application.name, "policy": policy.name,
                                           "precedence": precedence})
        configuration_changed(application_ids=[application.pk])
    return link


@transaction.atomic
def configuration_delete(*, acting_user, instance, ip_address: str | None = None) -> None:
    """Delete an Organization, Application, Policy, attached policy, Role or Connection, with its
    audit row; the applications it governed get a new configuration version and every process
    reloads its table."""
    before = _snapshot(instance)
    label, object_type, object_id = str(instance)[:254], instance._meta.label_lower, str(instance.pk)
    organizations = []
    if isinstance(instance, Policy):
        affected = list(instance.app_policies.values_list("application_id", flat=True))
    elif isinstance(instance, AppPolicy):
        affected = [instance.application_id]
    else:
        affected = []  # deleted applications take their sessions' validity with them
        # …and every process forgets them: their organization (or the organization itself) changed
        organizations = [instance.pk if isinstance(instance, Organization) else getattr(instance, "organization_id", None)]
    instance.delete()
    audit_record(actor=acting_user, action=f"{instance._meta.model_name}.delete", object_type=object_type,
                 object_id=object_id, object_label=label, ip_address=ip_address, before=before)
    # Rules and exemptions name roles and connections by key, in any organization.
    if isinstance(instance, (Role, Connection)):
        configuration_changed(environment_wide=True)
    else:
        configuration_changed(application_ids=affected, organization_ids=organizations)


@transaction.atomic
def aaguid_list_delete(*, acting_user, aaguid_list: AaguidList, ip_address: str | None = None) -> None:
    """Delete an AAGUID list, with its audit row. A list an organization uses as its
    ``required_aaguids`` is refused (``ValidationError`` naming the organizations)."""
    in_use = list(Organization.objects.select_for_update().filter(required_aaguids=aaguid_list)
                  .order_by("name").values_list("name", flat=True))
    if in_use:
        validation.raise_if_errors({"required_aaguids": [message(
            "aaguid_list_in_use", name=aaguid_list.name,
            organizations=", ".join(f"organization “{name}”" for name in in_use))]})
    before = _aaguid_list_snapshot(aaguid_list)
    label, object_id = str(aaguid_list)[:254], str(aaguid_list.pk)
    aaguid_list.delete()
    audit_record(actor=acting_user, action="aaguidlist.delete", object_type=AaguidList._meta.label_lower,
                 object_id=object_id, object_label=label, ip_address=ip_address, before=before)


@transaction.atomic
def application_save(*, acting_user, instance: Application, policies=None, ip_address: str | None = None) -> Application:
    """Save an application through :func:`configuration_save` and, when ``policies`` (a list of
    ``(policy, precedence)``) is given, make its attached policies exactly those — one atomic,
    audited change: a detached or moved policy is audited as a delete, a new place as an attach.
    Raises ``ValidationError`` naming ``policies`` (repeats, another organization) or the
    application's fields, and writes nothing."""
    errors: dict[str, list[str]] = {}
    if policies is not None:
        seen_policies, seen_precedences = set(), set()
        for policy, precedence in policies:
            if policy.organization_id != instance.organization_id:
                errors.setdefault("policies", []).append(message("policy_of_another_organization", policy=policy.name))
            if policy.pk in seen_policies:
                errors.setdefault("policies", []).append(message("policy_listed_twice", policy=policy.name))
            if precedence in seen_precedences:
                errors.setdefault("policies", []).append(message("precedence_twice", precedence=precedence))
            seen_policies.add(policy.pk)
            seen_precedences.add(precedence)
    try:
        configuration_save(acting_user=acting_user, instance=instance, ip_address=ip_address)
    except ValidationError as exc:
        raise ValidationError({**errors, **exc.error_dict}) from None  # error_dict keeps each refusal's place
    validation.raise_if_errors(errors)
    if policies is None:
        return instance
    current = {link.policy_id: link for link in AppPolicy.objects.select_for_update().filter(application=instance)}
    wanted = {policy.pk: precedence for policy, precedence in policies}
    for policy_id, link in current.items():
        if wanted.get(policy_id) != link.precedence:
            configuration_delete(acting_user=acting_user, instance=link, ip_address=ip_address)
    for policy, precedence in sorted(policies, key=lambda pair: pair[1]):
        if policy.pk not in current or current[policy.pk].precedence != precedence:
            policy_attach(acting_user=acting_user, application=instance, policy=policy, precedence=precedence,
                          ip_address=ip_address)
    return instance


# ------------------------------------------------------------------------ enrollment grace period
class GraceUnavailable(Exception):
    """The decision does not offer the grace period, or it ran out before this skip was recorded.
    ``message`` is for the user."""

    def __init__(self):
        self.message = message("grace_unavailable")
        super().__init__(self.message)


def _grace_after(grace: resolution.Grace | None) -> dict:
    if grace is None:
        return {"sign_ins_left": 0, "until": None, "ended": True}
    return {"sign_ins_left": grace.sign_ins_left,
            "until": grace.until.isoformat() if grace.until is not None else None, "ended": False}


@transaction.atomic
def enrollment_grace_skip(*, acting_user, decision: resolution.Decision, organization_id: int, now,
                          ip_address: str | None = None) -> resolution.Grace | None:
    """Record that ``acting_user`` skipped enrollment (“Set up later”) under ``organization_id``'s
    grace period, with its audit row (``enrollment.skipped``); return what remains afterwards
    (``None``: nothing).

    ``decision`` is the login flow's, just decided for an application of that organization: it must
    be “enroll” with the grace period on offer. The count is checked again against the stored
    organization under a row lock, so two skips racing for the last sign-in cannot both win.
    Raises :class:`GraceUnavailable` and writes nothing otherwise."""
    if decision.satisfied_by != resolution.ENROLL or decision.grace is None or not decision.allowed:
        raise GraceUnavailable()
    org = Organization.objects.filter(pk=organization_id).first()
    if org is None:
        raise GraceUnavailable()
    use, _ = EnrollmentGraceUse.objects.get_or_create(user=acting_user, organization=org)
    use = EnrollmentGraceUse.objects.select_for_update().get(pk=use.pk)
    settings = resolution.OrganizationSettings(
        id=org.pk, name=org.name, enrollment_grace_until=org.enrollment_grace_until,
        enrollment_grace_sign_ins=org.enrollment_grace_sign_ins)
    if resolution.grace_left(settings, sign_ins_used=use.sign_ins_used, now=now) is None:
        raise GraceUnavailable()
    before = {"sign_ins_used": use.sign_ins_used}
    use.sign_ins_used += 1
    use.last_skipped_at = now
    use.save(update_fields=["sign_ins_used", "last_skipped_at"])
    remaining = resolution.grace_left(settings, sign_ins_used=use.sign_ins_used, now=now)
    audit_record(actor=acting_user, action="enrollment.skipped", obj=use, subject_user=acting_user,
                 ip_address=ip_address, before=before,
                 after={"sign_ins_used": use.sign_ins_used, "remaining": _grace_after(remaining)})
    return remaining
