"""Signals sent by the enrollment flows, inside the transaction of the change.

Receivers (e.g. app-session revocation) must do only their own bookkeeping and must not
swallow errors: a failing receiver rolls the change back, which is what "never half a
change" means here.

``authenticator_added(sender=Authenticator, user, authenticator)``
``authenticator_removed(sender=Authenticator, user, authenticator_id: str, kind: str, acting_user)``
"""

from django.dispatch import Signal

authenticator_added = Signal()
authenticator_removed = Signal()
