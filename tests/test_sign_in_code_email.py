"""The e-mails of django-allauth's sign-in by code carry the product's name — not the request's
host ("Hello from localhost:8000!", "[localhost:8000] Sign-In Code") — through the real flow
(issue 11, end-user polish). Bodies: templates/account/email/."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.sign_in import SIGN_IN_KEY
from mfa_policies import constants as c

pytestmark = pytest.mark.django_db
HOSTS = ("localhost", "testserver", "127.0.0.1", "example.com")


def _request_code(client, email, host="localhost:8000"):
    return client.post("/accounts/login/code/", {"email": email}, HTTP_HOST=host)


def _only_code(body):
    return re.search(r"^\s*([A-Z0-9]{4}-?[A-Z0-9]{4})\s*$", body, re.M).group(1)


def test_the_sign_in_code_mail_names_mfagate_and_the_code_signs_in(client, make_user, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    make_user("code@example.test")
    response = _request_code(client, "code@example.test")
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["code@example.test"]
    assert sent.subject == "[mfagate] Your sign-in code"
    assert sent.body.startswith("Hello from mfagate!")
    assert "Your sign-in code for mfagate is:" in sent.body
    assert not any(host in sent.subject + sent.body for host in HOSTS), sent.body
    assert "Sign-In Code" not in sent.subject and "Thank you for using" not in sent.body
    response = client.post("/accounts/login/code/confirm/", {"code": _only_code(sent.body)}, HTTP_HOST="localhost:8000")
    assert response.status_code == 302
    assert client.session[SIGN_IN_KEY]["connection"] == c.CONNECTION_EMAIL_OTP


def test_a_host_header_does_not_reach_the_mail(client, make_user, settings):
    settings.ALLOWED_HOSTS = ["mfagate.example.org"]
    make_user("code@example.test")
    assert _request_code(client, "code@example.test", host="mfagate.example.org").status_code == 302
    sent = mail.outbox[0]
    assert "mfagate.example.org" not in sent.subject + sent.body
    assert sent.subject.startswith("[mfagate] ")


def test_an_unknown_address_is_told_to_ask_an_administrator_while_sign_up_is_closed(client, db, settings):
    settings.MFAGATE_OPEN_SIGNUP = False
    _request_code(client, "nobody@example.test")
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.subject == "[mfagate] No account for this e-mail address"
    assert sent.body.startswith("Hello from mfagate!")
    assert "ask your administrator" in sent.body
    assert "/accounts/signup/" not in sent.body and "create an account here" not in sent.body
    assert not re.search(r"^\s*[A-Z0-9]{4}-?[A-Z0-9]{4}\s*$", sent.body, re.M), "no code for an unknown address"


def test_an_unknown_address_gets_the_sign_up_link_when_sign_up_is_open(client, db, settings):
    settings.MFAGATE_OPEN_SIGNUP = True
    _request_code(client, "nobody@example.test")
    sent = mail.outbox[0]
    assert "create an account here" in sent.body and "/accounts/signup/" in sent.body
