"""Thin views of the App Launcher and the enrollment portal: parse, call a flow, render.

JSON endpoints answer ``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}`` — never a 500
for bad input.
"""

from __future__ import annotations

import json
import logging
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mfa_policies import clock
from mfa_policies import constants as c
from mfa_policies.resolution import SignIn
from mfa_policies.access.enforcement import safe_next as enforcement_safe_next
from mfa_policies.access.session_state import sign_in_context

from . import flows, selectors, step_up as step_up_window, totp
from . import webauthn as wa
from .forms import StepUpTotpForm, TotpEnrollForm
from .messages import MESSAGES, EnrollmentError
from .verification import VerificationError, totp_verify, webauthn_assertion_options, webauthn_assertion_verify

logger = logging.getLogger("mfagate.enrollment")

PENDING_TOTP_KEY = "mfagate.enrollment.totp_secret"
KIND_SLUGS = {"security-key": c.SECURITY_KEY, "biometrics": c.BIOMETRICS}
SLUG_FOR_KIND = {v: k for k, v in KIND_SLUGS.items()}
WEBAUTHN_KINDS = [c.SECURITY_KEY, c.BIOMETRICS]


# ------------------------------------------------------------------------------------ helpers
def safe_next(request, value) -> str | None:
    """``value`` if it is a path or URL on this host, else ``None``."""
    return enforcement_safe_next(request, value, default=None)


def _with_next(url: str, next_url: str | None) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _sign_in(request, now) -> SignIn:
    return sign_in_context(request, now=now, consume=False)


def _json_login_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse({"ok": False, "error": "Sign in first."}, status=401)
        return view(request, *args, **kwargs)

    return wrapper


def _json_body(request) -> dict | None:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"ok": False, "error": message}, status=status)


def _step_up_redirect(request, next_url: str):
    messages.info(request, MESSAGES["step_up_required"])
    return redirect(_with_next(reverse("enrollment:step_up"), next_url))


# ----------------------------------------------------------------------------------- launcher
@login_required
@require_GET
def launcher(request):
    now = clock.now()
    apps = selectors.launcher_apps(request.user, sign_in=_sign_in(request, now), now=now)
    return render(request, "enrollment/launcher.html", {
        "apps": apps,
        "devices": selectors.devices_for(request.user),
        "has_organization": bool(selectors.organizations_for(request.user)),
    })


@login_required
@require_GET
def devices(request):
    return render(request, "enrollment/devices.html", {
        "devices": selectors.devices_for(request.user),
        "step_up_open": step_up_window.is_open(request),
        "offered": selectors.offered_kinds(request.user),
    })


@login_required
@require_GET
def add(request):
    next_url = safe_next(request, request.GET.get("next"))
    if not step_up_window.allows_changes(request):
        return _step_up_redirect(request, _with_next(reverse("enrollment:add"), next_url))
    offered = selectors.offered_kinds(request.user)
    has_totp = any(d.kind == c.TOTP for d in selectors.devices_for(request.user))
    options = []
    for kind in offered:
        url = reverse("enrollment:add_totp") if kind == c.TOTP else reverse(
            "enrollment:add_webauthn", args=[SLUG_FOR_KIND[kind]])
        options.append({"kind": kind, "label": c.AUTHENTICATOR_LABELS[kind], "url": _with_next(url, next_url),
                        "disabled": kind == c.TOTP and has_totp})
    return render(request, "enrollment/add.html", {
        "options": options,
        "has_organization": bool(selectors.organizations_for(request.user)),
        "next": next_url,
        "totp_exists": MESSAGES["totp_exists"],
    })


def _finish(request, next_url: str | None) -> str:
    return next_url or reverse("enrollment:devices")


@login_required
@require_http_methods(["GET", "POST"])
def add_totp(request):
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if not step_up_window.allows_changes(request):
        return _step_up_redirect(request, _with_next(reverse("enrollment:add_totp"), next_url))
    if c.TOTP not in selectors.offered_kinds(request.user):
        messages.error(request, MESSAGES["kind_not_offered"])
        return redirect(_with_next(reverse("enrollment:add"), next_url))
    exists = selectors.devices_for(request.user) and any(d.kind == c.TOTP for d in selectors.devices_for(request.user))
    key_hex = request.session.get(PENDING_TOTP_KEY)
    if not key_hex or not totp.is_valid_secret(key_hex):
        key_hex = totp.new_secret()
        request.session[PENDING_TOTP_KEY] = key_hex
    form = TotpEnrollForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            flows.totp_add(request=request, acting_user=request.user, key_hex=key_hex,
                           code=form.cleaned_data["code"], name=form.cleaned_data["name"])
        except EnrollmentError as exc:
            field = "code" if exc.code.startswith("totp_") and exc.code != "totp_exists" else None
            form.add_error(field, exc.message)
        else:
            request.session.pop(PENDING_TOTP_KEY, None)
            messages.success(request, "Authenticator application added.")
            return redirect(_finish(request, next_url))
    uri = totp.provisioning_uri(key_hex=key_hex, account=request.user.email)
    return render(request, "enrollment/add_totp.html", {
        "form": form, "qr_svg": totp.qr_svg(uri), "setup_key": totp.setup_key_groups(key_hex),
        "next": next_url, "exists": exists, "totp_exists": MESSAGES["totp_exists"],
    }, status=200)


@login_required
@require_GET
def add_webauthn(request, kind: str):
    next_url = safe_next(request, request.GET.get("next"))
    if kind not in KIND_SLUGS:
        return redirect(_with_next(reverse("enrollment:add"), next_url))
    if not step_up_window.allows_changes(request):
        return _step_up_redirect(request, _with_next(reverse("enrollment:add_webauthn", args=[kind]), next_url))
    kind = KIND_SLUGS[kind]
    if kind not in selectors.offered_kinds(request.user):
        messages.error(request, MESSAGES["kind_not_offered"])
        return redirect(_with_next(reverse("enrollment:add"), next_url))
    return render(request, "enrollment/add_webauthn.html", {
        "kind": kind, "label": c.AUTHENTICATOR_LABELS[kind], "next": next_url,
        "restricted": bool(selectors.required_aaguid_lists(request.user)),
    })


@_json_login_required
@require_POST
def register_options(request):
    data = _json_body(request)
    if data is None or data.get("kind") not in WEBAUTHN_KINDS:
        return _error("Choose Security key or Biometrics.")
    if not step_up_window.allows_changes(request):
        return _error(MESSAGES["step_up_required"], status=403)
    kind = data["kind"]
    if kind not in selectors.offered_kinds(request.user):
        return _error(MESSAGES["kind_not_offered"], status=403)
    exclude = [(d.credential_id, d.transports) for d in selectors.devices_for(request.user) if d.is_webauthn]
    options = wa.registration_options(
        request=request, user=request.user, kind=kind, exclude=exclude,
        direct_attestation=bool(selectors.required_aaguid_lists(request.user)),
    )
    return JsonResponse({"ok": True, "options": options})


@_json_login_required
@require_POST
def register_verify(request):
    data = _json_body(request)
    if data is None:
        wa.discard_challenge(request, "register")
        return _error(MESSAGES["webauthn_malformed"])
    if not step_up_window.allows_changes(request):
        wa.discard_challenge(request, "register")
        return _error(MESSAGES["step_up_required"], status=403)
    name = data.get("name") if isinstance(data.get("name"), str) else ""
    try:
        authenticator = flows.webauthn_add(
            request=request, acting_user=request.user, credential=data.get("credential"), name=name
        )
    except (EnrollmentError, wa.WebAuthnError) as exc:
        return _error(exc.message)
    messages.success(request, f"{c.AUTHENTICATOR_LABELS[authenticator.kind]} “{authenticator.name}” added.")
    next_url = safe_next(request, data.get("next"))
    return JsonResponse({"ok": True, "redirect": _finish(request, next_url)})


# ------------------------------------------------------------------------------------ step-up
@login_required
@require_http_methods(["GET", "POST"])
def step_up(request):
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    user_devices = selectors.devices_for(request.user)
    if not user_devices:
        return redirect(next_url or reverse("enrollment:add"))
    has_totp = any(d.kind == c.TOTP for d in user_devices)
    has_webauthn = any(d.is_webauthn for d in user_devices)
    form = StepUpTotpForm(request.POST or None)
    if request.method == "POST" and has_totp and form.is_valid():
        try:
            totp_verify(request=request, user=request.user, code=form.cleaned_data["code"])
        except VerificationError as exc:
            form.add_error("code", exc.message)
        else:
            step_up_window.open_window(request)
            return redirect(next_url or reverse("enrollment:devices"))
    return render(request, "enrollment/step_up.html", {
        "form": form, "has_totp": has_totp, "has_webauthn": has_webauthn, "next": next_url,
    })


@_json_login_required
@require_POST
def step_up_options(request):
    try:
        options = webauthn_assertion_options(request=request, user=request.user, kinds=WEBAUTHN_KINDS, purpose="step_up")
    except VerificationError as exc:
        return _error(exc.message)
    return JsonResponse({"ok": True, "options": options})


@_json_login_required
@require_POST
def step_up_verify(request):
    data = _json_body(request)
    if data is None:
        wa.discard_challenge(request, "step_up")
        return _error(MESSAGES["webauthn_malformed"])
    try:
        webauthn_assertion_verify(request=request, user=request.user, kinds=WEBAUTHN_KINDS, purpose="step_up",
                                  credential=data.get("credential"))
    except VerificationError as exc:
        return _error(exc.message)
    step_up_window.open_window(request)
    next_url = safe_next(request, data.get("next"))
    return JsonResponse({"ok": True, "redirect": next_url or reverse("enrollment:devices")})


# ------------------------------------------------------------------------------------- remove
@login_required
def remove(request, authenticator_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not step_up_window.is_open(request):
        return _step_up_redirect(request, reverse("enrollment:devices"))
    flows.authenticator_remove(request=request, acting_user=request.user, authenticator_id=authenticator_id)
    messages.success(request, "MFA device removed.")
    return redirect("enrollment:devices")
