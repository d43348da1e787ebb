"""Signals sent by the enrollment flows, inside the transaction of the change (except
``enrollment_verified``, sent once the enrollment has committed).

Receivers (e.g. app-session revocation) must do only their own bookkeeping and must not
swallow errors: a failing receiver rolls the change back, which is what "never half a
change" means here.

``authenticator_added(sender=Authenticator, user, authenticator)``
``authenticator_removed(sender=Authenticator, user, authenticator_id: str, kind: str, acting_user)``
``enrollment_verified(sender=Authenticator, user, authenticator, request)``: proving the code or the
WebAuthn ceremony at enrollment was a verification with that authenticator, in ``request``'s browser
session (the step-up window is already open; the access runtime records an MFA session).
"""

from django.dispatch import Signal

authenticator_added = Signal()
authenticator_removed = Signal()
enrollment_verified = Signal()
