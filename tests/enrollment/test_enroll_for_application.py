"""A user sent to enroll by an application (``/AddMfaDevice?next=…``) is offered the kinds that
application accepts first, and the others apart, saying why (issue 11, item 4)."""

from __future__ import annotations

import re

from tests.support.signin import sign_in

ADD = "/AddMfaDevice"


def _kinds_in_order(html: str) -> list[str]:
    return re.findall(r'<li class="card kind-([a-z_]+)">', html)


def test_p1_is_offered_a_security_key_first_and_the_authenticator_application_under_other_kinds(client, demo):
    sign_in(client, "p1@demo.test")
    sent = client.get("/demo/a/")
    assert sent["Location"] == f"{ADD}?next=%2Fdemo%2Fa%2F"
    html = client.get(sent["Location"]).content.decode()
    assert _kinds_in_order(html) == ["security_key", "totp", "biometrics"]
    accepted, others = html.split('id="other-kinds-heading"')
    assert "kind-security_key" in accepted and "kind-totp" not in accepted
    assert "“Application A” accepts a security key: enroll one to open it." in accepted
    assert "kind-totp" in others and "kind-biometrics" in others and "“Application A” does not accept these: enrolling one will not let you " \
                                     "in there." in others


def test_an_application_that_accepts_every_offered_kind_shows_no_other_kinds(client, demo):
    sign_in(client, "other@demo.test")
    sent = client.get("/demo/a/")
    html = client.get(sent["Location"]).content.decode()
    assert _kinds_in_order(html) == ["totp", "security_key", "biometrics"]
    assert "Other kinds" not in html
    assert "Set up later" not in html  # the demo organization has no grace period


def test_the_page_without_a_matching_next_keeps_the_usual_order(client, demo):
    sign_in(client, "p1@demo.test")
    client.get("/demo/a/")  # sent to enroll for Application A …
    for url in (ADD, f"{ADD}?next=/demo/b/", f"{ADD}?next=//evil.example/"):  # … but opened otherwise
        html = client.get(url).content.decode()
        assert _kinds_in_order(html) == ["totp", "security_key", "biometrics"], url
        assert "Other kinds" not in html and "“Application A” accepts" not in html


def test_a_tampered_session_entry_is_ignored_not_a_500(client, demo):
    sign_in(client, "p1@demo.test")
    client.get("/demo/a/")
    session = client.session
    session["mfagate.enroll_for"] = {"next": "/demo/a/", "at": "yesterday", "kinds": 7}
    session.save()
    response = client.get(f"{ADD}?next=/demo/a/")
    assert response.status_code == 200
    assert _kinds_in_order(response.content.decode()) == ["totp", "security_key", "biometrics"]
