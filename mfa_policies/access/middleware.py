"""The access middleware: maps a request to an Application and enforces its decision.

Install after Django's ``AuthenticationMiddleware`` and allauth's ``AccountMiddleware`` (a system
check refuses any other order). Paths no application covers, and the never-gated paths
(:data:`mfa_policies.access.app_table.NEVER_GATED_PREFIXES`), pass untouched with
``request.access = None``.
"""

from __future__ import annotations

from mfa_policies import generation

from . import app_table, responses
from .app_table import never_gated
from .enforcement import PASSED, enforce


class AccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.access = None
        path = request.path_info
        if not never_gated(path):
            # One cache round trip per request: when the table this process holds (possibly stale)
            # covers the path, the user's MFA generation is fetched with the configuration's.
            held = app_table.latest()
            held_entry = held.match(path) if held is not None else None
            user_id = None
            if held_entry is not None:
                user = request.user
                if user.is_authenticated:
                    user_id = user.pk
            config_generation, user_generation = generation.generations(user_id)
            table = app_table.table_for(config_generation)
            entry = held_entry if table is held else table.match(path)
            if entry is not None:
                outcome = enforce(request, entry, user_generation=user_generation)
                if outcome is not PASSED:
                    return responses.respond(request, outcome)
        return self.get_response(request)
