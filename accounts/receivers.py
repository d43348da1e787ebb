"""Signal receivers: sign-ins outside allauth, and revocation when an authenticator goes."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete
from django.dispatch import receiver

from enrollment.signals import authenticator_removed
from mfa_policies import constants as c
from mfa_policies.access.revocation import user_generation_bump
from mfa_policies.access.session_state import record_sign_in


@receiver(user_logged_in, dispatch_uid="mfagate-provisional-sign-in")
def provisional_sign_in(sender, request, user, **kwargs):
    """Every Django login (including ones outside allauth, e.g. the admin's form) gets a sign-in
    record; allauth's adapter overwrites it with the precise connection moments later."""
    if request is not None and hasattr(request, "session"):
        record_sign_in(request, connection=c.CONNECTION_PASSWORD)


@receiver(authenticator_removed, dispatch_uid="mfagate-revoke-on-authenticator-removed")
def revoke_on_authenticator_removed(sender, user, authenticator_id, kind, acting_user=None, **kwargs):
    """Runs inside the remove transaction: app sessions granted with this authenticator re-run the
    login flow on their next request (spec §3.4)."""
    user_generation_bump(user.pk)


def revoke_on_authenticator_deleted(sender, instance, **kwargs):
    """Backstop for deletions that bypass the enrollment flows (cascades, the shell)."""
    user_generation_bump(instance.user_id)


def connect():
    from enrollment.models import Authenticator

    post_delete.connect(revoke_on_authenticator_deleted, sender=Authenticator,
                        dispatch_uid="mfagate-revoke-on-authenticator-deleted")
