"""HTTP for the runtime's outcomes: what the browser gets for each :class:`~.enforcement.Outcome`."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages as django_messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode

from mfa_policies.messages import message
from mfa_policies.resolution import kinds_text

from . import enforcement as e


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}"


def respond(request, outcome: e.Outcome) -> HttpResponse | None:
    """``None`` to let the request through, else the response to send instead."""
    if outcome.action == e.PASS:
        return None
    here = request.get_full_path()
    if outcome.action == e.SIGN_IN:
        return redirect_to_login(here, settings.LOGIN_URL)
    if outcome.action == e.DENIED:
        return denied(request, outcome)
    if outcome.action == e.CHALLENGE:
        return HttpResponseRedirect(_with_next(reverse("mfa:verify"), here))
    if outcome.action == e.ENROLL:
        django_messages.warning(request, message(
            "enroll_first", app=outcome.entry.name, kinds=kinds_text(outcome.decision.allowed_authenticators)))
        return HttpResponseRedirect(_with_next(reverse("enrollment:add"), here))
    if outcome.action == e.STALE:
        # Send the request again — with its method and body (307) — so it is matched against the
        # current configuration.
        response = HttpResponse(status=307)
        response["Location"] = here
        return response
    raise AssertionError(f"unknown outcome {outcome.action!r}")  # never a silent pass


def denied(request, outcome: e.Outcome) -> HttpResponse:
    decision = outcome.decision
    context = {
        "application": outcome.entry,
        "decision": decision,
        "trail": decision.trail,
        "refusal": decision.refusal,
        "help": message("denied_help", app=outcome.entry.name),
    }
    return HttpResponse(render_to_string("mfa/denied.html", context, request=request), status=403)


def no_challenge(request, nothing: e.NoChallenge) -> HttpResponse:
    if not nothing.expected:
        django_messages.info(request, message("no_challenge"))
    return HttpResponseRedirect(nothing.next_url)
