"""The access middleware: maps a request to an Application and enforces its decision.

Install after Django's ``AuthenticationMiddleware`` and allauth's ``AccountMiddleware``. Paths no
application covers, and the never-gated paths (:data:`mfa_policies.app_table.NEVER_GATED_PREFIXES`),
pass untouched with ``request.access = None``.
"""

from __future__ import annotations

from .app_table import never_gated
from .enforcement import current_table, enforce


class AccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.access = None
        path = request.path_info
        if not never_gated(path):
            entry = current_table().match(path)
            if entry is not None:
                response = enforce(request, entry)
                if response is not None:
                    return response
        return self.get_response(request)
