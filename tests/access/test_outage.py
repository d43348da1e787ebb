"""Degrade, never crash (SECURITY row 28): a request id on every response and log line; an
unreachable database answers 503 "try again" (a protected request never passes), any other error a
plain page — both with the reference; with Redis down, signing in still works."""

from __future__ import annotations

import io
import logging

import pytest
from django.db import OperationalError
from django.test import Client

from mfa_policies.access import mirror
from mfa_policies.access.request_id import HEADER
from tests.support.signin import sign_in


@pytest.fixture
def stderr_log():
    """What the configured stderr handler of ``django.request`` writes (its stream swapped for a buffer)."""
    handler = logging.getLogger("django.request").handlers[0]
    buffer = io.StringIO()
    original = handler.setStream(buffer)
    yield buffer
    handler.setStream(original)


@pytest.fixture
def production_client(settings):
    settings.DEBUG = False
    return Client(raise_request_exception=False)


def test_every_response_names_its_request_id(client, db):
    first, second = client.get("/accounts/login/"), client.get("/accounts/login/")
    assert len(first[HEADER]) == 32 and first[HEADER] != second[HEADER]


@pytest.mark.parametrize("incoming,kept", [("proxy-1234-abcd", True), ("short", False),
                                           ("evil\nINFO forged log line", False), ("x" * 65, False)])
def test_a_proxy_request_id_is_kept_only_when_it_looks_like_one(client, db, incoming, kept):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=incoming)
    assert (response[HEADER] == incoming) is kept


def test_an_unreachable_database_on_a_protected_path_answers_try_again_never_a_pass(
        production_client, demo, monkeypatch, stderr_log):
    from accounts.models import User

    production_client.force_login(User.objects.get(email="p2@demo.test"))
    assert production_client.get("/demo/a/").status_code == 200

    def down():
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(mirror, "table", down)
    response = production_client.get("/demo/a/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    page = response.content.decode()
    assert "Temporarily unavailable" in page and f"Reference: {response[HEADER]}" in page
    assert "Traceback" not in page and "hello" not in page
    err = stderr_log.getvalue()
    assert f"ERROR django.request [{response[HEADER]}]" in err and "OperationalError" in err


def test_any_other_error_is_a_plain_page_with_the_reference(production_client, demo, monkeypatch, stderr_log):
    monkeypatch.setattr(mirror, "table", lambda: (_ for _ in ()).throw(RuntimeError("a bug")))
    response = production_client.get("/demo/a/")
    assert response.status_code == 500
    assert f"Reference: {response[HEADER]}" in response.content.decode()
    assert f"[{response[HEADER]}]" in stderr_log.getvalue() and "RuntimeError: a bug" in stderr_log.getvalue()


def test_with_redis_down_signing_in_still_works(client, demo, settings, private_redis):
    settings.CACHES = {"default": {"BACKEND": "mfa_policies.cache_backends.RedisCache", "LOCATION": private_redis.url}}
    private_redis.stop()
    sign_in(client, "p2@demo.test")  # allauth's rate limits count in the per-process fallback
    assert client.get("/demo/a/").status_code == 200
