"""Revocation: is an app session this browser holds still good? (spec §3.4)

An app session is live only while it belongs to the signed-in user, is unexpired, was granted
under the application's current ``config_version`` and the current environment generation (both
from the process's mirror, :mod:`.mirror`) and under the user's current MFA generation — read from ``request.user``, the row Django's
authentication middleware loads from the database on every request: a removed authenticator is
seen by the very next request, whatever any cache holds. Anything else re-runs the login flow. No
query and no network round trip on the live path.
"""

from __future__ import annotations

import logging

from mfa_policies import clock

from .app_table import AppEntry

log = logging.getLogger("mfagate.revocation")


def app_session_live(user, entry: AppEntry, stored: dict, environment_generation: int) -> bool:
    """Whether ``stored`` (an app session from :mod:`.session_state`) still lets ``user`` (this
    request's, freshly loaded) into ``entry``, whose table is at ``environment_generation``."""
    if (stored.get("user_id") != str(user.pk)
            or stored.get("config_version") != entry.config_version
            or stored.get("environment_generation") != environment_generation
            or stored.get("expires_at", 0) <= clock.now().timestamp()):
        return False
    if getattr(user, "mfa_generation", None) != stored.get("user_generation"):
        # An authenticator of this user was removed since: every other session redoes MFA.
        log.info("app session for %s on app %s revoked: an authenticator was removed", user.pk, entry.id)
        return False
    return True
