"""The demo applications: ``/demo/a/`` and ``/demo/b/`` (covered by Application A and B through
their path prefixes) and ``/demo/reports/`` (outside every prefix, protected by the decorator)."""

from __future__ import annotations

import json

from django.shortcuts import render

from mfa_policies.access.decorators import mfa_protected


def demo_app(request):
    access = request.access
    return render(request, "demo/app.html", {
        "access": access,
        "claims_json": json.dumps(access.claims, indent=2, sort_keys=True) if access else "",
        "via": "the access middleware (path prefix)",
    })


@mfa_protected(app="Application A", org="Demo")
def demo_reports(request):
    access = request.access
    return render(request, "demo/app.html", {
        "access": access,
        "claims_json": json.dumps(access.claims, indent=2, sort_keys=True),
        "via": "@mfa_protected(app=\"Application A\")",
    })
