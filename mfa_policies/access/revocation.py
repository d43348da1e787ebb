"""Revocation: is an app session this browser holds still good? (spec §3.4)

An app session is live only while it belongs to the signed-in user, is unexpired, was granted
under the application's current ``config_version`` (from the in-process application table) and
under the user's current MFA generation (:mod:`mfa_policies.generation`, one cache read when
warm, the database when not). Anything else re-runs the login flow. No query on the live path.
"""

from __future__ import annotations

import logging

from mfa_policies import clock, generation

from .app_table import AppEntry

log = logging.getLogger("mfagate.revocation")


def app_session_live(user, entry: AppEntry, stored: dict, *, user_generation: int | None = None) -> bool:
    """Whether ``stored`` (an app session from :mod:`.session_state`) still lets ``user`` into
    ``entry``. ``user_generation``: the user's MFA generation when the caller already read it."""
    user_id = user.pk
    if (stored.get("user_id") != str(user_id)
            or stored.get("config_version") != entry.config_version
            or stored.get("expires_at", 0) <= clock.now().timestamp()):
        return False
    if generation.user_generation(user_id, cached=user_generation) != stored.get("user_generation"):
        # An authenticator of this user was removed since: every other session redoes MFA.
        log.info("app session for %s on app %s revoked: an authenticator was removed", user_id, entry.id)
        return False
    return True
