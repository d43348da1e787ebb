"""What a request gets when something fails: a clear page with its request id, never a traceback.

:func:`server_error` is the project's ``handler500``. Django calls it for any exception no view
handled (and logs that exception first, through ``django.request``, with the request id). When
what failed is something the request needs being unreachable — the database, or Redis for code
outside the resilient cache backend — the answer is **503** with ``Retry-After``: "try again", and
nothing was granted; anything else is a plain 500 page. A protected request never passes on
either: the access middleware answers before the view runs, and an error there ends the request.
"""

from __future__ import annotations

import sys

import redis
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string

from mfa_policies.messages import message

from . import request_id

UNAVAILABLE = (OperationalError, InterfaceError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
RETRY_AFTER_SECONDS = 5


def server_error(request, *args, **kwargs):
    exc = sys.exc_info()[1]
    unavailable = isinstance(exc, UNAVAILABLE)
    context = {
        "title": message("unavailable_title" if unavailable else "server_error_title"),
        "text": message("unavailable" if unavailable else "server_error"),
        "reference": message("error_reference", request_id=request_id.current()),
    }
    # No request context: context processors would read the session and the user — the very
    # things that may be unreachable now.
    response = HttpResponse(render_to_string("mfa/error.html", context), status=503 if unavailable else 500)
    if unavailable:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
