"""Use cases of the enrollment portal: add a TOTP or WebAuthn authenticator, remove one; and
the administrator's lockout recovery: delete someone's authenticator, unlock their throttle, or —
from the server's shell, when no administrator can sign in — reset them entirely.

Each takes the ``acting_user``, checks its own preconditions — the step-up window first (seed 002
"MFA verification for authenticator changes"), so no caller can skip it — runs atomically,
writes its audit event and sends its signal inside the transaction, and emails the user once the
transaction has committed (bodies in ``templates/enrollment/email/``). Refusals raise
:class:`~enrollment.messages.EnrollmentError` (or ``WebAuthnError``) and store nothing.
"""

from __future__ import annotations

import getpass
import logging
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404

from accounts.audit import audit_record
from mfa_policies import clock, generation
from mfa_policies import constants as c

from . import recovery, selectors, step_up, throttle, totp
from . import webauthn as wa
from .messages import MESSAGES, EnrollmentError
from .models import Authenticator
from .notices import client_ip as _ip
from .notices import notify as _notify
from .signals import authenticator_added, authenticator_removed, enrollment_verified

logger = logging.getLogger("mfagate.enrollment")


def _snapshot(authenticator: Authenticator) -> dict:
    return {
        "kind": authenticator.kind,
        "name": authenticator.name,
        "aaguid": authenticator.aaguid,
        "created_at": authenticator.created_at.isoformat() if authenticator.created_at else None,
    }


def _added(request, acting_user, authenticator: Authenticator) -> None:
    audit_record(
        actor=acting_user, action="authenticator.added", obj=authenticator,
        subject_user=authenticator.user, ip_address=_ip(request), after=_snapshot(authenticator),
    )
    authenticator_added.send(sender=Authenticator, user=authenticator.user, authenticator=authenticator)
    _notify(authenticator.user, "authenticator_added", name=authenticator.name,
            kind_label=c.AUTHENTICATOR_LABELS[authenticator.kind], at=authenticator.created_at,
            ip_address=_ip(request))


def _verified_by_enrollment(request, acting_user, authenticator: Authenticator) -> None:
    """After an enrollment committed: proving the code or the ceremony was a verification with the
    new authenticator in this browser session, so it opens the step-up window (rotating the session
    key) and — through ``enrollment_verified``, which the access runtime receives — records an MFA
    session for its kind. Nothing happens for a request that is not the user's own browser."""
    if getattr(request, "user", None) != acting_user or getattr(request, "session", None) is None:
        return
    step_up.open_window(request, authenticator=authenticator)
    enrollment_verified.send(sender=Authenticator, user=acting_user, authenticator=authenticator, request=request)


def _clean_name(name: str | None, default: str) -> str:
    name = (name or "").strip()
    if len(name) > 64:
        raise EnrollmentError("device_name")
    return name or default[:64]


def totp_add(*, request, acting_user, key_hex: str, code: str, name: str = "") -> Authenticator:
    """Enroll the pending TOTP secret once ``code`` proves the user's app has it."""
    step_up.raise_unless_allowed(request, acting_user)
    if c.TOTP not in selectors.offered_kinds(acting_user):
        raise EnrollmentError("kind_not_offered")
    if Authenticator.objects.filter(user=acting_user, kind=c.TOTP).exists():
        raise EnrollmentError("totp_exists")
    if not totp.is_valid_secret(key_hex):
        raise EnrollmentError("totp_setup_expired")
    if totp.normalize_code(code) is None:
        raise EnrollmentError("totp_code_format")
    match = totp.match_code(key_hex=key_hex, code=code)
    if match is None:
        raise EnrollmentError("totp_invalid_code")
    name = _clean_name(name, c.AUTHENTICATOR_LABELS[c.TOTP])
    try:
        with transaction.atomic():
            device = totp.create_device(user=acting_user, key_hex=key_hex, accepted_t=match.t, name=name)
            authenticator = Authenticator.objects.create(
                user=acting_user, kind=c.TOTP, name=name, created_at=clock.now(), totp_device=device
            )
            _added(request, acting_user, authenticator)
    except IntegrityError:
        # A concurrent request enrolled one first: the one-TOTP-per-user constraint held.
        raise EnrollmentError("totp_exists") from None
    _verified_by_enrollment(request, acting_user, authenticator)
    return authenticator


def webauthn_add(*, request, acting_user, credential, name: str = "") -> Authenticator:
    """Verify a registration response (see :func:`enrollment.webauthn.verify_registration`) and
    store the credential; the kind is what the browser reported."""
    step_up.raise_unless_allowed(request, acting_user)
    new = wa.verify_registration(
        request=request, credential=credential, required_aaguid_lists=selectors.required_aaguid_lists(acting_user)
    )
    if new.kind not in selectors.offered_kinds(acting_user):
        raise EnrollmentError("kind_not_offered")
    if Authenticator.objects.filter(credential_id=new.credential_id).exists():
        raise EnrollmentError("webauthn_already_registered")
    name = _clean_name(name, new.model_name or c.AUTHENTICATOR_LABELS[new.kind])
    try:
        with transaction.atomic():
            authenticator = Authenticator.objects.create(
                user=acting_user, kind=new.kind, name=name, created_at=clock.now(),
                credential_id=new.credential_id, public_key=new.public_key, sign_count=new.sign_count,
                transports=new.transports, aaguid=new.aaguid, attestation_format=new.attestation_format,
                backup_eligible=new.backup_eligible, backup_state=new.backup_state,
            )
            _added(request, acting_user, authenticator)
    except IntegrityError:
        raise EnrollmentError("webauthn_already_registered") from None
    _verified_by_enrollment(request, acting_user, authenticator)
    return authenticator


def _delete(authenticator: Authenticator) -> None:
    if authenticator.totp_device_id:
        device = authenticator.totp_device
        authenticator.delete()
        totp.delete_device(device)
    else:
        authenticator.delete()


def _remove_locked(*, request, acting_user, authenticator: Authenticator, action: str) -> dict:
    """Audit, delete and signal the removal of a row locked by the caller's transaction.
    Returns the authenticator's snapshot for the notice."""
    snapshot = _snapshot(authenticator)
    pk, kind = str(authenticator.pk), authenticator.kind
    audit_record(actor=acting_user, action=action, obj=authenticator, subject_user=authenticator.user,
                 ip_address=_ip(request), before=snapshot)
    _delete(authenticator)
    recovery.revoke_with_last_device(request=request, actor=acting_user, user=authenticator.user)
    # App sessions and MFA sessions granted before this removal re-run the login flow (spec §3.4).
    generation.user_generation_bump(authenticator.user_id)
    authenticator_removed.send(sender=Authenticator, user=authenticator.user, authenticator_id=pk, kind=kind,
                               acting_user=acting_user, request=request)
    return snapshot


def _locked(authenticator_id, **owner) -> Authenticator:
    authenticator = (Authenticator.objects.select_for_update().select_related("user")
                     .filter(pk=authenticator_id, **owner).first())
    if authenticator is None:
        raise Http404("No such MFA device.")
    return authenticator


def authenticator_remove(*, request, acting_user, authenticator_id) -> dict:
    """Remove one of ``acting_user``'s own authenticators (another user's id → 404). Needs the
    step-up window. Returns the removed authenticator's snapshot (``name``, ``kind``, …)."""
    step_up.raise_unless_allowed(request, acting_user)
    with transaction.atomic():
        authenticator = _locked(authenticator_id, user=acting_user)
        snapshot = _remove_locked(request=request, acting_user=acting_user, authenticator=authenticator,
                                  action="authenticator.removed")
        # Every other browser session now redoes MFA; this one proved possession with its step-up,
        # so its window stays open (the runtime keeps its app sessions: access.receivers).
        if getattr(request, "user", None) == acting_user:
            step_up.adopt_generation(request, generation.stored_user_generation(acting_user.pk))
        _notify(acting_user, "authenticator_removed", name=snapshot["name"],
                kind_label=c.AUTHENTICATOR_LABELS[snapshot["kind"]], at=clock.now(), ip_address=_ip(request))
    return snapshot


ADMIN_DELETE_PERMISSION = "enrollment.delete_authenticator"
THROTTLE_UNLOCK_PERMISSION = "enrollment.change_verificationthrottle"


def _is_active_staff(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_staff)


def may_delete_for_others(user) -> bool:
    """Staff holding ``enrollment.delete_authenticator`` (superusers hold every permission)."""
    return _is_active_staff(user) and user.has_perm(ADMIN_DELETE_PERMISSION)


def may_unlock_throttle(user) -> bool:
    """Staff holding ``enrollment.change_verificationthrottle`` ("Can change MFA verification
    throttle"; superusers hold every permission). A permission of its own, apart from deleting
    devices: a help desk can lift a lock without being able to take anyone's devices away."""
    return _is_active_staff(user) and user.has_perm(THROTTLE_UNLOCK_PERMISSION)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name here (a container user without a passwd entry)
        return "unknown"


@dataclass(frozen=True)
class CommandActor:
    """Whoever runs a management command on the server. There is no user account behind it:
    shell access to the deployment is the authority (it can read the database and the secret key
    anyway), so the audit log names the command and the operating-system account instead.
    Passed as the ``actor`` of the command paths below; never built from a request."""

    command: str
    os_user: str = field(default_factory=_os_user)
    is_authenticated = False  # not a user: audit_record keeps only the label

    def __str__(self) -> str:
        return f"system (manage.py {self.command}, OS user {self.os_user})"


def _delete_for_owner(*, request, actor, actor_label: str, authenticator_id) -> Authenticator:
    with transaction.atomic():
        authenticator = _locked(authenticator_id)
        owner = authenticator.user
        snapshot = _remove_locked(request=request, acting_user=actor, authenticator=authenticator,
                                  action="authenticator.deleted_by_admin")
        _notify(owner, "authenticator_deleted_by_admin", name=snapshot["name"],
                kind_label=c.AUTHENTICATOR_LABELS[snapshot["kind"]], at=clock.now(), admin_email=actor_label)
    return authenticator


def authenticator_delete_by_admin(*, request, acting_user, authenticator_id) -> Authenticator:
    """An administrator deletes another user's authenticator (lockout recovery, a lost device).

    Refused with ``PermissionDenied`` unless ``acting_user`` is active staff with
    ``enrollment.delete_authenticator``. Audited with the admin as actor and the owner as subject;
    sends ``authenticator_removed`` so every browser session of the owner redoes MFA (or goes to
    enrollment when nothing is left) on its next request; emails the owner once committed.
    Returns the deleted (unsaved) authenticator for the confirmation message.

    Organization scoping is not enforced here: mfagate has no organization-scoped admins yet, so
    the permission is global (SECURITY row 15).
    """
    if not may_delete_for_others(acting_user):
        raise PermissionDenied(MESSAGES["admin_delete_not_allowed"])
    return _delete_for_owner(request=request, actor=acting_user, actor_label=acting_user.email,
                             authenticator_id=authenticator_id)


def authenticator_delete_by_command(*, actor: CommandActor, authenticator_id) -> Authenticator:
    """:func:`authenticator_delete_by_admin` for a management command: the same audit row
    (``authenticator.deleted_by_admin``, the command as actor), revocation and e-mail, with no
    permission check — the caller has the server's shell (see :class:`CommandActor`)."""
    if not isinstance(actor, CommandActor):
        raise TypeError("authenticator_delete_by_command takes a CommandActor; requests use authenticator_delete_by_admin")
    return _delete_for_owner(request=None, actor=actor, actor_label=MESSAGES["admin_label_command"],
                             authenticator_id=authenticator_id)


def _throttle_clear(*, request, actor, actor_label: str, user) -> throttle.ThrottleState:
    with transaction.atomic():
        before = throttle.clear(user)
        if before.is_clear:
            return before
        throttle.audit_event(user, request, "throttle.unlocked", actor=actor, before=before.as_audit(),
                             after=throttle.ThrottleState().as_audit())
        _notify(user, "throttle_unlocked", failures=before.consecutive_failures, at=clock.now(),
                admin_email=actor_label)
    return before


def throttle_unlock(*, request, acting_user, user) -> throttle.ThrottleState:
    """An administrator lifts ``user``'s MFA verification throttle (the growing delay or the hard
    lock of :mod:`enrollment.throttle`), as a successful verification would.

    Refused with ``PermissionDenied`` unless :func:`may_unlock_throttle`. One transaction: the
    throttle row locked, reset, and an ``throttle.unlocked`` audit row with the admin as actor, the
    user as subject and the counter before and after; the user is e-mailed once committed (someone
    may have been guessing their codes). Returns the state it had; a throttle with no failures is
    left alone, without an audit row. Sessions are untouched: nothing was verified.
    """
    if not may_unlock_throttle(acting_user):
        raise PermissionDenied(MESSAGES["admin_unlock_not_allowed"])
    return _throttle_clear(request=request, actor=acting_user, actor_label=acting_user.email, user=user)


@dataclass(frozen=True)
class MfaReset:
    """What :func:`mfa_reset_by_command` did: the deleted authenticators by id (the unsaved rows
    no longer have their primary key) and the throttle as it was."""

    deleted: tuple[tuple[str, Authenticator], ...]
    throttle_before: throttle.ThrottleState


def mfa_reset_by_command(*, actor: CommandActor, user) -> MfaReset:
    """``manage.py mfa_reset_user``: the way out when the last administrator is locked out.

    In one transaction, every authenticator of ``user`` is deleted through
    :func:`authenticator_delete_by_command` (audited, e-mailed, the user's sessions redo the login
    flow) and the throttle is cleared (audited as ``throttle.unlocked``), all with the command as
    actor. The user enrolls again at ``/AddMfaDevice`` on their next sign-in.
    """
    if not isinstance(actor, CommandActor):
        raise TypeError("mfa_reset_by_command takes a CommandActor")
    with transaction.atomic():
        ids = list(Authenticator.objects.select_for_update().filter(user=user).order_by("created_at")
                   .values_list("pk", flat=True))
        deleted = tuple((str(pk), authenticator_delete_by_command(actor=actor, authenticator_id=pk)) for pk in ids)
        before = _throttle_clear(request=None, actor=actor, actor_label=MESSAGES["admin_label_command"], user=user)
    return MfaReset(deleted=deleted, throttle_before=before)
