"""A backstop for authenticator deletions that bypass the enrollment flows (cascades, the shell):
the owner's other sessions redo MFA all the same."""

from __future__ import annotations

from django.db.models.signals import post_delete
from django.dispatch import receiver

from mfa_policies.generation import user_generation_bump

from .models import Authenticator


@receiver(post_delete, sender=Authenticator, dispatch_uid="mfagate-revoke-on-authenticator-deleted")
def revoke_on_authenticator_deleted(sender, instance, **kwargs):
    user_generation_bump(instance.user_id)
