"""The MFA challenge (``/mfa/verify/``) and the JWKS document. Thin: parse, call
:mod:`.enforcement` and :mod:`enrollment.verification`, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages as django_messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from enrollment import assertion, recovery
from enrollment.forms import CodeForm, RecoveryCodeForm
from enrollment.messages import EnrollmentError, browser_messages
from enrollment.messages import message as enrollment_message
from enrollment.verification import VerificationError, totp_verify
from mfa_policies import constants as c
from mfa_policies.messages import kinds_phrase, message
from mfa_policies.resolution import kinds_text

from . import responses, tokens
from .enforcement import ChallengeRefused, NoChallenge, SkipRefused, challenge_complete, challenge_for, skip_enrollment

WEBAUTHN_PURPOSE = "mfa-challenge"
WEBAUTHN_BUTTONS = {c.SECURITY_KEY: "Use your security key", c.BIOMETRICS: "Use biometrics"}
TOTP_LABEL = "Code from your authenticator application"


def _verified(request, challenge, authenticator) -> str:
    """Finish the challenge; the URL to continue to. Raises ``ChallengeRefused``."""
    next_url = challenge_complete(request, challenge, authenticator)
    django_messages.success(request, message("verified", kind=kinds_text({authenticator.kind})))
    return next_url


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
    challenge = challenge_for(request)
    if isinstance(challenge, NoChallenge):
        return responses.no_challenge(request, challenge)
    kinds_enrolled = {a.kind for a in challenge.authenticators}
    form = CodeForm(request.POST or None, label=TOTP_LABEL)
    if request.method == "POST" and c.TOTP in kinds_enrolled and form.is_valid():
        try:
            authenticator = totp_verify(request=request, user=request.user, code=form.cleaned_data["code"])
            return HttpResponseRedirect(_verified(request, challenge, authenticator))
        except (VerificationError, ChallengeRefused) as exc:
            form.add_error("code", exc.message)
    webauthn = [
        {"kind": kind, "label": WEBAUTHN_BUTTONS[kind],
         "options_url": f"{reverse('mfa:webauthn_options')}?{urlencode({'kind': kind})}",
         "verify_url": f"{reverse('mfa:webauthn_verify')}?{urlencode({'kind': kind})}"}
        for kind in challenge.kinds if kind in WEBAUTHN_BUTTONS and kind in kinds_enrolled
    ]
    app = challenge.application.name
    return render(request, "mfa/verify.html", {
        "challenge": challenge,
        "application": challenge.application,
        "accepts": message("challenge_accepts", app=app,
                           kinds=kinds_phrase(challenge.decision.allowed_authenticators)),
        "none_title": message("challenge_none_title"),
        "none_add": message("challenge_none_add", app=app),
        "none_admin": message("challenge_none_admin"),
        "enroll_url": f"{reverse('enrollment:add')}?{urlencode({'next': challenge.next_url})}",
        "offer_totp": c.TOTP in challenge.kinds and c.TOTP in kinds_enrolled,
        "form": form,
        "webauthn": webauthn,
        "query": urlencode({"next": challenge.next_url}),
        "trail": challenge.decision.trail,
        "browser_messages": browser_messages(),
        "recovery_url": f"{reverse('mfa:recovery')}?{urlencode({'next': challenge.next_url})}"
        if _recovery(request, challenge).allowed and recovery.remaining(request.user) else None,
    }, status=400 if form.errors else 200)


def _recovery(request, challenge) -> recovery.Availability:
    return recovery.availability(request.user, application_organization_id=challenge.application.organization_id)


@never_cache
@require_http_methods(["GET", "POST"])
def recovery_code(request):
    """"Use a recovery code" at the MFA challenge. The code never finishes the challenge (README
    "Recovery codes"): it opens the step-up window and sends the user to add a new MFA device,
    and that enrollment is the verification that lets them continue."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
    challenge = challenge_for(request)
    if isinstance(challenge, NoChallenge):
        return responses.no_challenge(request, challenge)
    availability = _recovery(request, challenge)
    form = RecoveryCodeForm(request.POST or None)
    if request.method == "POST" and availability.allowed and form.is_valid():
        try:
            left = recovery.use(request=request, user=request.user, code=form.cleaned_data["code"],
                                application_organization_id=challenge.application.organization_id)
        except EnrollmentError as exc:
            form.add_error("code", exc.message)
        else:
            django_messages.success(request, enrollment_message("recovery_code_accepted", remaining=left))
            return HttpResponseRedirect(f"{reverse('enrollment:add')}?{urlencode({'next': challenge.next_url})}")
    return render(request, "enrollment/recovery_use.html", {
        "form": form, "application": challenge.application,
        "allowed_text": kinds_text(challenge.decision.allowed_authenticators),
        "availability": availability, "back_url": f"{reverse('mfa:verify')}?{urlencode({'next': challenge.next_url})}",
    }, status=400 if form.errors else 200)


def _webauthn_challenge(request):
    """``(challenge, kinds)`` for a WebAuthn endpoint of the pending challenge, or the JSON error."""
    challenge = challenge_for(request)
    if isinstance(challenge, NoChallenge):
        return assertion.json_error(message("no_challenge"), 409)
    kind = request.GET.get("kind", "")
    if kind not in challenge.kinds or kind not in WEBAUTHN_BUTTONS:
        return assertion.json_error(message("kind_not_allowed", app=challenge.application.name,
                                            kinds=kinds_text(challenge.kinds)))
    return challenge, [kind]


@never_cache
@assertion.json_login_required
@require_POST
def webauthn_options(request):
    found = _webauthn_challenge(request)
    if isinstance(found, JsonResponse):
        return found
    _, kinds = found
    return assertion.options_response(request, kinds=kinds, purpose=WEBAUTHN_PURPOSE)


@never_cache
@assertion.json_login_required
@require_POST
def webauthn_verify(request):
    found = _webauthn_challenge(request)
    if isinstance(found, JsonResponse):
        return found
    challenge, kinds = found
    verified = assertion.verify(request, kinds=kinds, purpose=WEBAUTHN_PURPOSE)
    if isinstance(verified, JsonResponse):
        return verified
    authenticator, _ = verified
    try:
        next_url = _verified(request, challenge, authenticator)
    except ChallengeRefused as exc:
        return assertion.json_error(exc.message)
    return JsonResponse({"ok": True, "redirect": next_url, "redirect_url": next_url})


@never_cache
@require_POST
def enroll_later(request):
    """“Set up later” on the enrollment page (POST, CSRF-checked): skip enrolling this once, while
    the organization's grace period lasts (:func:`.enforcement.skip_enrollment` decides)."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("enrollment:add"), settings.LOGIN_URL)
    next_url = request.POST.get("next")
    try:
        target = skip_enrollment(request, next_url if isinstance(next_url, str) else None)
    except SkipRefused as exc:
        django_messages.error(request, exc.message)
        return HttpResponseRedirect(exc.next_url or "/")
    django_messages.info(request, message("enroll_later_done", app=request.access.application.name))
    return HttpResponseRedirect(target)


@require_GET
def jwks(request):
    response = JsonResponse(tokens.jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response
