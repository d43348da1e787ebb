"""The MFA challenge (``/mfa/verify/``) and the JWKS document. Thin: parse, call
:mod:`mfa_policies.access.enforcement` and :mod:`enrollment.verification`, render."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.contrib import messages as django_messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mfa_policies import constants as c
from mfa_policies.access import tokens
from mfa_policies.access.enforcement import challenge_complete, challenge_for
from mfa_policies.messages import kinds_text, message
from enrollment.verification import (VerificationError, totp_verify, webauthn_assertion_options,
                                     webauthn_assertion_verify)

WEBAUTHN_PURPOSE = "mfa-challenge"


WEBAUTHN_BUTTONS = {c.SECURITY_KEY: "Use your security key", c.BIOMETRICS: "Use biometrics"}


class TotpForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator application", max_length=12, strip=True,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True,
                                      "pattern": r"[0-9 ]*"}),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
    challenge = challenge_for(request)
    if isinstance(challenge, HttpResponse):
        return challenge
    kinds_enrolled = {a.kind for a in challenge.authenticators}
    form = TotpForm(request.POST or None)
    if request.method == "POST" and c.TOTP in kinds_enrolled and form.is_valid():
        try:
            authenticator = totp_verify(request=request, user=request.user, code=form.cleaned_data["code"])
        except VerificationError as exc:
            form.add_error("code", exc.message)
        else:
            next_url = challenge_complete(request, challenge, authenticator)
            django_messages.success(request, message("verified", kind=kinds_text({authenticator.kind})))
            return HttpResponseRedirect(next_url)
    query = urlencode({"next": challenge.next_url})
    webauthn = [
        {"kind": kind, "label": WEBAUTHN_BUTTONS[kind],
         "options_url": f"{reverse('mfa:webauthn_options')}?{urlencode({'kind': kind})}",
         "verify_url": f"{reverse('mfa:webauthn_verify')}?{urlencode({'kind': kind})}"}
        for kind in challenge.kinds if kind in WEBAUTHN_BUTTONS and kind in kinds_enrolled
    ]
    return render(request, "mfa/verify.html", {
        "challenge": challenge,
        "application": challenge.application,
        "allowed_text": kinds_text(challenge.kinds),
        "offer_totp": c.TOTP in challenge.kinds and c.TOTP in kinds_enrolled,
        "form": form,
        "webauthn": webauthn,
        "query": query,
        "trail": challenge.decision.trail,
    }, status=400 if form.errors else 200)


def _webauthn_kinds(request, challenge) -> list[str]:
    kind = request.GET.get("kind", "")
    return [kind] if kind in challenge.kinds and kind in WEBAUTHN_BUTTONS else []


def _json_error(text: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"ok": False, "error": text}, status=status)


def _webauthn_challenge(request):
    """``(challenge, kinds)`` for a WebAuthn endpoint of the pending challenge, or the JSON error."""
    if not request.user.is_authenticated:
        return _json_error("Sign in first.", 401)
    challenge = challenge_for(request)
    if isinstance(challenge, HttpResponse):
        return _json_error(message("no_challenge"), 409)
    kinds = _webauthn_kinds(request, challenge)
    if not kinds:
        return _json_error(message("kind_not_allowed", app=challenge.application.name, kinds=kinds_text(challenge.kinds)))
    return challenge, kinds


@never_cache
@require_POST
def webauthn_options(request):
    found = _webauthn_challenge(request)
    if isinstance(found, JsonResponse):
        return found
    _, kinds = found
    try:
        options = webauthn_assertion_options(request=request, user=request.user, kinds=kinds, purpose=WEBAUTHN_PURPOSE)
    except VerificationError as exc:
        return _json_error(exc.message)
    return JsonResponse({"ok": True, "options": options})


@never_cache
@require_POST
def webauthn_verify(request):
    found = _webauthn_challenge(request)
    if isinstance(found, JsonResponse):
        return found
    challenge, kinds = found
    try:
        credential = json.loads(request.body or b"null")
    except ValueError:
        return _json_error("The browser sent an unreadable response. Try again.")
    if isinstance(credential, dict) and "credential" in credential:
        credential = credential["credential"]
    try:
        authenticator = webauthn_assertion_verify(
            request=request, user=request.user, kinds=kinds, purpose=WEBAUTHN_PURPOSE, credential=credential)
    except VerificationError as exc:
        return _json_error(exc.message)
    next_url = challenge_complete(request, challenge, authenticator)
    django_messages.success(request, message("verified", kind=kinds_text({authenticator.kind})))
    return JsonResponse({"ok": True, "redirect": next_url, "redirect_url": next_url})


@require_GET
def jwks(request):
    response = JsonResponse(tokens.jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response
