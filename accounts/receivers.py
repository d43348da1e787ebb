"""Every Django login gets a sign-in record, including ones outside allauth (e.g. the admin's form)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from mfa_policies import constants as c

from .sign_in import record_sign_in


@receiver(user_logged_in, dispatch_uid="mfagate-provisional-sign-in")
def provisional_sign_in(sender, request, user, **kwargs):
    """A provisional record; allauth's adapter overwrites it with the precise connection moments later."""
    if request is not None and hasattr(request, "session"):
        record_sign_in(request, connection=c.CONNECTION_PASSWORD)
