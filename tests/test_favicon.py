"""A favicon: an SVG and a PNG for the pages, and /favicon.ico at the site's root, served by
whitenoise before any view (so it never 404s, never needs a session, never meets the access
middleware) — issue 11, end-user polish."""

from __future__ import annotations

import re
import struct

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_favicon_ico_is_served_at_the_root_as_an_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    reserved, kind, count = struct.unpack("<HHH", body[:6])
    assert (reserved, kind) == (0, 1) and count >= 1, "an ICO header"
    sizes = {body[6 + 16 * i] for i in range(count)}
    assert {16, 32} <= sizes
    assert "sessionid" not in response.cookies


def test_favicon_ico_needs_no_sign_in_and_is_not_gated(client, demo):
    """Even with an application covering every path, the icon is served before the access runtime."""
    from mfa_policies.models import Application
    from mfa_policies.services import application_save

    app = Application.objects.get(name="Application B")
    app.path_prefixes = ["/"]
    application_save(acting_user=None, instance=app, policies=[(p, i) for i, p in enumerate(app.policies.all(), 1)])
    assert client.get("/favicon.ico").status_code == 200


@pytest.mark.parametrize("page", ["/accounts/login/", "/mfa/verify/?next=/demo/a/"])
def test_every_page_names_the_icons(client, page):
    html = client.get(page, follow=True).content.decode()
    assert '<link rel="icon" href="/favicon.ico" sizes="48x48">' in html
    svg = re.search(r'<link rel="icon" href="([^"]+\.svg)" type="image/svg\+xml">', html).group(1)
    touch = re.search(r'<link rel="apple-touch-icon" href="([^"]+\.png)">', html).group(1)
    assert svg == "/static/img/favicon.svg" and touch == "/static/img/apple-touch-icon.png"


def test_the_icon_files_are_what_they_claim():
    svg = open(finders.find("img/favicon.svg"), "rb").read()
    assert svg.startswith(b"<svg") and b'viewBox="0 0 32 32"' in svg and b"<script" not in svg
    png = open(finders.find("img/apple-touch-icon.png"), "rb").read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (180, 180)


def test_other_root_paths_still_404_with_a_clear_page(client):
    response = client.get("/favicon.png.bak")
    assert response.status_code == 404 and "Page not found" in response.content.decode()
