"""A real HTTP client for the multi-process tests: one browser session (its cookies kept by hand,
so a ``Secure`` cookie is still sent over loopback HTTP), no redirects followed, and every answer
timed and tagged with the gunicorn worker that gave it."""

from __future__ import annotations

import http.client
import re
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class Answer:
    status: int
    location: str
    body: str
    worker: str
    started: float   # time.monotonic() when the request was sent
    took: float      # seconds until the whole answer was read


class Browser:
    def __init__(self, base: str):
        self.base = base
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}

    def copy(self) -> "Browser":
        """Another connection of the same browser session (same cookies)."""
        other = Browser(self.base)
        other.cookies = self.cookies
        return other

    def request(self, method: str, path: str, form: dict | None = None, timeout: float = 10.0) -> Answer:
        headers = {"Host": f"{self.host}:{self.port}", "Origin": self.base, "Referer": self.base + path}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"]):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Answer(status=response.status, location=response.headers.get("Location", ""), body=text,
                      worker=response.headers.get("X-Test-Worker", ""), started=started,
                      took=time.monotonic() - started)

    def get(self, path: str, **kwargs) -> Answer:
        return self.request("GET", path, **kwargs)

    def post_form(self, path: str, form: dict, *, page: str | None = None) -> Answer:
        """GET ``page`` (default ``path``) for its CSRF token, then POST ``form`` to ``path``."""
        shown = self.get(page or path)
        token = CSRF_INPUT.search(shown.body)
        assert token, f"no CSRF token on {page or path} ({shown.status})"
        return self.request("POST", path, {**form, "csrfmiddlewaretoken": token.group(1)})
