"""The access middleware: maps a request to an Application and enforces its decision.

Install after Django's ``AuthenticationMiddleware`` and allauth's ``AccountMiddleware`` (a system
check refuses any other order). Paths no application covers, and the never-gated paths
(:data:`mfa_policies.access.app_table.NEVER_GATED_PREFIXES`), pass untouched with
``request.access = None``.

Steady state — the mirror trusted (:mod:`.mirror`) — this costs no network round trip at all: the
path is matched in the process's table, and a live app session is checked against the table's
``config_version`` and environment generation and the MFA generation on ``request.user`` (the row
Django loads anyway).
"""

from __future__ import annotations

from . import mirror, responses
from .app_table import never_gated
from .enforcement import PASSED, enforce


class AccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.access = None
        path = request.path_info
        if not never_gated(path):
            table = mirror.table()
            entry = table.match(path)
            if entry is not None:
                outcome = enforce(request, entry, table)
                if outcome is not PASSED:
                    return responses.respond(request, outcome)
        return self.get_response(request)
