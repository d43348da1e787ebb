"""A real enterprise OIDC sign-in for tests: the test IdP (``tests/oidc_idp/idp.js``, panva's
``oidc-provider`` under Node), an allauth ``openid_connect`` SocialApp pointing at it, and a
driver that signs in through both with Django's test client playing the relying party's browser
and ``requests`` playing it at the IdP.

The fixtures (``oidc_idp``, ``corp_oidc``, ``idp_clock``) are in tests/access/conftest.py; this
module has what they and the tests import by name. ``make test`` installs the IdP
(``make oidc-idp``); without Node or ``tests/oidc_idp/node_modules`` the tests fail, they do not
skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

IDP_DIR = Path(__file__).resolve().parents[1] / "oidc_idp"
OIDC_PROVIDER_ID = "corp"
CLIENT_ID = "mfagate-tests"
CLIENT_SECRET = "mfagate-tests-secret"
CALLBACK_URL = f"http://testserver/accounts/oidc/{OIDC_PROVIDER_ID}/login/callback/"
READY_TIMEOUT = 15.0

#: The IdP's users (password "<login>-pw"); the `amr` each one's logins carry by default.
IDP_USERS = {
    "alice": {"amr": ["pwd", "hwk"]},
    "bob": {"amr": ["pwd", "otp"]},
    "carol": {"amr": ["pwd"]},
    "dave": {"amr": ["pop"]},
    "erin": {"amr": ["pwd", "otp"]},  # no local account: provisioned on first sign-in
}


def _idp_users_json() -> str:
    import json

    return json.dumps({
        login: {"password": f"{login}-pw", "amr": u["amr"], "email": f"{login}@corp.example"}
        for login, u in IDP_USERS.items()
    })


@dataclass
class RunningIdp:
    issuer: str
    process: subprocess.Popen
    started_in: float  # seconds from spawn to the READY line
    log_path: str

    def log(self) -> str:
        return Path(self.log_path).read_text(errors="replace")


@contextlib.contextmanager
def running_idp():
    """The test IdP on a free loopback port until the block ends (fails the test if it cannot start)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is not installed: the enterprise OIDC tests need `node` for the test IdP "
                    "(tests/oidc_idp). Install Node.js 20+ and run `make oidc-idp` (or `make test`).",
                    pytrace=False)
    if not (IDP_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("The test IdP's npm packages are missing (tests/oidc_idp/node_modules): run "
                    "`make oidc-idp` (npm ci --prefix tests/oidc_idp), or `make test`.", pytrace=False)
    log = tempfile.NamedTemporaryFile("w+", prefix="mfagate-idp-", suffix=".log", delete=False)
    env = {**os.environ, "IDP_HOST": "127.0.0.1", "IDP_PORT": "0", "IDP_CLIENT_ID": CLIENT_ID,
           "IDP_CLIENT_SECRET": CLIENT_SECRET, "IDP_REDIRECT_URIS": CALLBACK_URL, "IDP_USERS": _idp_users_json()}
    started = time.perf_counter()
    process = subprocess.Popen([node, str(IDP_DIR / "idp.js")], env=env, stdout=subprocess.PIPE,
                               stderr=log, text=True)
    ready: list[str] = []

    def read_ready():
        for line in process.stdout:
            if line.startswith("IDP_READY "):
                ready.append(line.split()[1])
                return

    reader = threading.Thread(target=read_ready, daemon=True)
    reader.start()
    reader.join(READY_TIMEOUT)
    if not ready:
        process.kill()
        process.wait(5)
        pytest.fail(f"The test IdP did not print IDP_READY within {READY_TIMEOUT:.0f} s "
                    f"(exit status {process.returncode}); its log:\n{Path(log.name).read_text()}", pytrace=False)
    idp = RunningIdp(issuer=ready[0], process=process, started_in=time.perf_counter() - started, log_path=log.name)
    try:
        yield idp
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        process.stdout.close()
        log.close()
        os.unlink(log.name)


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "fields": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""


def _login_form(html: str) -> dict:
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        if "password" in form["fields"]:
            return form
    raise AssertionError(f"no login form on the IdP page:\n{html[:1000]}")


@dataclass
class OidcSignIn:
    response: object  # Django's response to the callback (allauth's redirect after login)
    seconds: float    # the whole round trip


def oidc_sign_in(client, login: str, password: str | None = None, *, amr: str | None = None,
                 auth_time: int | None = None, next_url: str | None = None) -> OidcSignIn:
    """Sign ``client`` in through allauth's ``openid_connect`` provider and the test IdP.

    Each call uses a new IdP browser session, so the IdP always shows its login form and the
    ``amr`` (or ``auth_time``) override applies to this login only.
    """
    started = time.perf_counter()
    url = f"/accounts/oidc/{OIDC_PROVIDER_ID}/login/" + (f"?next={next_url}" if next_url else "")
    response = client.post(url)  # allauth starts the provider login on POST
    assert response.status_code == 302, response.content[:500]
    browser = requests.Session()
    page = browser.get(response["Location"], timeout=10)  # IdP /auth -> /interaction/<uid>
    page.raise_for_status()
    form = _login_form(page.text)
    fields = {**form["fields"], "login": login, "password": password or f"{login}-pw"}
    if amr is not None:
        fields["amr"] = amr
    if auth_time is not None:
        fields["auth_time"] = str(auth_time)
    hop = browser.post(urljoin(page.url, form["action"]), data=fields, allow_redirects=False, timeout=10)
    # The IdP's own redirects (resume, consent, resume) until it sends the browser back to us.
    for _ in range(10):
        if not hop.is_redirect:
            break
        target = urljoin(hop.url, hop.headers["Location"])
        if urlsplit(target).netloc == "testserver":
            break
        hop = browser.get(target, allow_redirects=False, timeout=10)
    assert hop.is_redirect, f"the IdP did not send the browser back ({hop.status_code}):\n{hop.text[:1000]}"
    callback = urlsplit(urljoin(hop.url, hop.headers["Location"]))
    assert callback.netloc == "testserver", callback
    response = client.get(f"{callback.path}?{callback.query}")  # allauth: code -> tokens -> login
    return OidcSignIn(response=response, seconds=time.perf_counter() - started)
