"""Writing audit events. Callers are services, inside their own transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from mfa_policies import clock

from .models import AuditEvent

#: The families of audit actions — an action is ``<family>.<verb>`` — security events first. The
#: admin filters the log by them (labels ``audit_family_<family>`` in mfa_policies/messages.py);
#: the README's "Security events" lists every action.
SECURITY_FAMILIES = ("mfa", "throttle", "step_up", "recovery_code", "authenticator")
CONFIGURATION_FAMILIES = ("environment", "organization", "application", "policy", "membership", "role", "connection",
                          "aaguidlist", "apitoken", "user", "group", "socialapp", "demo", "scale")


def client_ip(request) -> str | None:
    """The address an event is recorded with: the request's ``REMOTE_ADDR`` (``None`` for a
    command, or when there is none)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    actor,
    action: str,
    obj: Any = None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
    subject_user=None,
    ip_address: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Record one accepted change. Must run inside the caller's atomic block."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run in the same transaction as the change it records")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_label = object_label or str(obj)[:254]
    actor_user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        at=clock.now(),
        actor=actor_user,
        actor_label=(actor_user.email if actor_user else (str(actor) if actor else "system"))[:254],
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label,
        subject_user=subject_user,
        ip_address=ip_address,
        before=before,
        after=after,
    )
