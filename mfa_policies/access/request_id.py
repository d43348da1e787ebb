"""A request id for every request — on every log line written while it runs, in the ``X-Request-ID``
response header and on the error pages — so a user's "it said reference …" finds its log lines.

A proxy's ``X-Request-ID`` is kept when it looks like an id (8–64 of ``A-Z a-z 0-9 . _ : -``;
anything else could forge log lines); otherwise a random one is made.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

HEADER = "X-Request-ID"
_SAFE = re.compile(r"[A-Za-z0-9._:-]{8,64}\Z")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("mfagate_request_id", default="-")


def current() -> str:
    """This request's id (``-`` outside a request)."""
    return _current.get()


class RequestIdMiddleware:
    """Install first, so everything after it logs with the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = incoming if _SAFE.match(incoming) else uuid.uuid4().hex
        token = _current.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request.request_id
        return response


class RequestIdFilter(logging.Filter):
    """Gives every log record ``request_id`` (for the formatter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get()
        return True
