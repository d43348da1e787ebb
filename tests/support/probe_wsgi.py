"""The project's WSGI application, naming the worker process that answered (``X-Test-Worker``) —
so the multi-process tests can tell gunicorn's workers apart. Tests only."""

from __future__ import annotations

import os

from config.wsgi import application as _project


def application(environ, start_response):
    def start(status, headers, exc_info=None):
        return start_response(status, [*headers, ("X-Test-Worker", str(os.getpid()))], exc_info)

    return _project(environ, start)
