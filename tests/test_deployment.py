"""The deployment as the README documents it: `check --deploy` is clean under its production
settings, those settings mean what they say, 500s reach stderr with DEBUG off, every response
carries the Content-Security-Policy, and no template needs `unsafe-inline` for it."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from config.csp import HEADER, REPORT_ONLY_HEADER, build_policy

ROOT = Path(__file__).resolve().parent.parent
MARKER = "<!-- tests/test_deployment.py runs `manage.py check --deploy` with exactly this block -->"


def documented_production_settings() -> dict[str, str]:
    """The README's production block, with a fresh secret for each ``<…>`` placeholder."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(re.escape(MARKER) + r"\n```sh\n(.*?)\n```", readme, re.DOTALL)
    assert block, "README.md has no production settings block after the marker"
    values = dict(line.split("=", 1) for line in block.group(1).splitlines() if line and not line.startswith("#"))
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    placeholders = {"SECRET_KEY": secrets.token_urlsafe(50), "MFAGATE_JWT_PRIVATE_KEY": pem}
    for name, value in values.items():
        if value.startswith("<"):
            assert name in placeholders, f"no test value for the README's placeholder {name}"
            values[name] = placeholders[name]
    return values


def run_with(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """``args`` in a fresh interpreter with only ``env`` (and PATH) in its environment."""
    return subprocess.run([sys.executable, *args], cwd=ROOT, env={"PATH": os.environ["PATH"], **env},
                          capture_output=True, text=True, timeout=120, check=False)


def test_check_deploy_is_clean_under_the_documented_production_settings():
    result = run_with(documented_production_settings(), "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_the_documented_production_settings_mean_what_the_readme_says():
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DEBUG, s.SECURE_PROXY_SSL_HEADER, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.CSRF_TRUSTED_ORIGINS, s.CACHES['default']['BACKEND'], s.STORAGES['staticfiles']['BACKEND'], "
        "s.MFAGATE_JWT_PRIVATE_KEY.startswith('-----BEGIN PRIVATE KEY-----\\n')]))"
    )
    result = run_with({**documented_production_settings(), "DJANGO_SETTINGS_MODULE": "config.settings"}, "-c", script)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        False, ["HTTP_X_FORWARDED_PROTO", "https"], True, 31536000, True, True, True, True,
        ["https://mfagate.example.com"], "mfa_policies.cache_backends.RedisCache",
        "whitenoise.storage.CompressedManifestStaticFilesStorage", True,
    ]


def test_the_proxy_header_is_opt_in_and_a_malformed_one_is_refused():
    base = {"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true"}
    script = "import django; django.setup(); from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER)"
    assert run_with(base, "-c", script).stdout.strip() == "None"
    refused = run_with({**base, "SECURE_PROXY_SSL_HEADER": "true"}, "-c", script)
    assert refused.returncode != 0 and "HTTP_X_FORWARDED_PROTO,https" in refused.stderr


# ---------------------------------------------------------------------------------- errors
def _boom(request):
    raise RuntimeError("the database went away")


urlpatterns = [path("boom/", _boom)]


def test_a_500_is_logged_to_stderr_with_its_traceback_when_debug_is_off(settings, db):
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__
    assert "stream" not in settings.LOGGING["handlers"]["console"]  # a StreamHandler's default: stderr
    # pytest adds capturing handlers of its own; ours is the one plain StreamHandler
    (console,) = [h for h in logging.getLogger("django.request").handlers if type(h) is logging.StreamHandler]
    captured = io.StringIO()
    previous = console.setStream(captured)
    try:
        response = Client(raise_request_exception=False).get("/boom/")
    finally:
        console.setStream(previous)
    assert response.status_code == 500
    logged = captured.getvalue()
    assert "ERROR django.request Internal Server Error: /boom/" in logged
    assert "RuntimeError: the database went away" in logged  # the traceback


# ------------------------------------------------------------------------------------- CSP
def test_every_response_carries_the_strict_policy(client, settings, db):
    policy = client.get("/accounts/login/")[HEADER]
    assert policy == build_policy(settings.SECURE_CSP)
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["default-src"] == directives["script-src"] == directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["form-action"] == "'self'" and directives["base-uri"] == "'none'"
    assert "unsafe" not in policy
    assert client.get("/no-such-page/")[HEADER] == policy  # error pages too
    assert REPORT_ONLY_HEADER not in client.get("/accounts/login/")


def test_a_view_that_sets_its_own_policy_keeps_it(settings):
    from config.csp import ContentSecurityPolicyMiddleware

    def view(request):
        response = HttpResponse("x")
        response[HEADER] = "default-src 'none'"
        return response

    settings.SECURE_CSP_REPORT_ONLY = {"default-src": ["'self'"], "upgrade-insecure-requests": True, "off": None}
    response = ContentSecurityPolicyMiddleware(view)(None)
    assert response[HEADER] == "default-src 'none'"
    assert response[REPORT_ONLY_HEADER] == "default-src 'self'; upgrade-insecure-requests"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE), "an inline script"),
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "an inline event handler"),
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), "an inline style"),
    (re.compile(r"<style\b", re.IGNORECASE), "a style element"),
    (re.compile(r"javascript:", re.IGNORECASE), "a javascript: URL"),
]


@pytest.mark.parametrize("template", sorted((ROOT / "templates").rglob("*.html")),
                         ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_no_template_needs_unsafe_inline(template):
    text = template.read_text()
    found = [what for pattern, what in INLINE if pattern.search(text)]
    assert not found, f"{template.name} has {', '.join(found)}: the Content-Security-Policy blocks it"
