"""The access middleware: maps a request to an Application and enforces its decision.

Install after Django's ``AuthenticationMiddleware`` and allauth's ``AccountMiddleware``. Paths no
application covers, and the never-gated paths (:data:`mfa_policies.access.app_table.NEVER_GATED_PREFIXES`),
pass untouched with ``request.access = None``.
"""

from __future__ import annotations

from mfa_policies.access import app_table
from mfa_policies.access import revocation
from mfa_policies.access.app_table import never_gated
from mfa_policies.access.enforcement import enforce


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
            generation, user_generation = revocation.generations(user_id)
            table = app_table.table_for(generation)
            entry = held_entry if table is held else table.match(path)
            if entry is not None:
                response = enforce(request, entry, user_generation=user_generation)
                if response is not None:
                    return response
        return self.get_response(request)
