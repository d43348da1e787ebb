"""The runtime's own bookkeeping when something happens elsewhere: a sign-in, an authenticator
removal, a configuration change committed in this process (:mod:`.mirror` listens to those).

Connected by :class:`mfa_policies.apps.MfaPoliciesConfig`. Receivers of the enrollment signals
run inside the change's transaction and must not swallow errors (see :mod:`enrollment.signals`).
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from enrollment.signals import authenticator_removed, enrollment_verified
from mfa_policies import generation

from . import mirror, session_state  # noqa: F401  (mirror: listens to this process's changes)


@receiver(user_logged_in, dispatch_uid="mfagate-forget-app-sessions-on-sign-in")
def forget_app_sessions_on_sign_in(sender, request, user, **kwargs):
    """App sessions and a pending challenge granted under an earlier sign-in are gone."""
    if request is not None and hasattr(request, "session"):
        session_state.forget_sign_in_state(request)


@receiver(authenticator_removed, dispatch_uid="mfagate-remover-keeps-its-sessions")
def remover_keeps_its_sessions(sender, user, authenticator_id, kind, acting_user=None, request=None, **kwargs):
    """Every other browser session of ``user`` now redoes MFA (the removal raised their MFA
    generation); the owner's own browser proved possession with its step-up, so it keeps what it
    holds — except anything granted with the removed authenticator itself."""
    if request is None or getattr(request, "session", None) is None or getattr(request, "user", None) != user:
        return
    session_state.adopt_user_generation(request, removed_authenticator_id=authenticator_id,
                                        user_generation=generation.stored_user_generation(user.pk))


@receiver(enrollment_verified, dispatch_uid="mfagate-enrollment-is-a-verification")
def mfa_session_on_enrollment(sender, user, authenticator, request, **kwargs):
    """Proving a code or a WebAuthn ceremony at enrollment is a verification with that
    authenticator: this browser session holds an MFA session for its kind (issue 11 item 4), so
    the application that sent the user to enroll lets them in without another challenge."""
    session_state.record_mfa(request, kind=authenticator.kind, authenticator_id=str(authenticator.pk),
                             user_generation=generation.stored_user_generation(user.pk))
