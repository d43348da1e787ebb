"""Thin views of the App Launcher and the enrollment portal: parse, call a flow, render.

JSON endpoints answer ``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}`` — never a 500
for bad input. Adding or removing an MFA device needs the step-up window: the flows refuse
without it (:func:`enrollment.step_up.raise_unless_allowed`); the pages send the person to the
step-up page first (:func:`step_up_first`) so they never see that refusal.
"""

from __future__ import annotations

import logging
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.adapter import safe_next as site_safe_next
from accounts.sign_in import sign_in_context
from mfa_policies import clock
from mfa_policies import constants as c
from mfa_policies.messages import kinds_phrase
from mfa_policies.resolution import when_text

from . import assertion, flows, recovery, requested, selectors, step_up as step_up_window, totp
from . import webauthn as wa
from .forms import CodeForm, RecoveryCodeForm, TotpEnrollForm
from .messages import MESSAGES, EnrollmentError, browser_messages, message, recovery_browser_messages
from .verification import WEBAUTHN_KINDS, VerificationError, totp_verify

logger = logging.getLogger("mfagate.enrollment")

PENDING_TOTP_KEY = "mfagate.enrollment.totp_secret"
KIND_SLUGS = {"security-key": c.SECURITY_KEY, "biometrics": c.BIOMETRICS}
SLUG_FOR_KIND = {v: k for k, v in KIND_SLUGS.items()}
STEP_UP_PURPOSE = "step_up"


# ------------------------------------------------------------------------------------ helpers
def safe_next(request, value) -> str | None:
    """``value`` if it is a path or URL on this host, else ``None``."""
    return site_safe_next(request, value, default=None)


def _with_next(url: str, next_url: str | None) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _next(request) -> str | None:
    return safe_next(request, request.POST.get("next") or request.GET.get("next"))


def step_up_first(view=None, *, come_back_to: str | None = None):
    """Pages that add or remove an MFA device: without an open step-up window (for a user who has
    a device), send the person to verify first, then back to this page (or ``come_back_to``, a URL
    name, for a POST-only action)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not step_up_window.allows_changes(request):
                messages.info(request, MESSAGES["step_up_required"])
                back = reverse(come_back_to) if come_back_to else _with_next(request.path, _next(request))
                return redirect(_with_next(reverse("enrollment:step_up"), back))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator


def _finish(next_url: str | None) -> str:
    return next_url or reverse("enrollment:devices")


def _grace_text(grace) -> str:
    """What remains of the grace period, as the enrollment page says it."""
    count = grace.sign_ins_left
    times = "time" if count == 1 else "times"
    if grace.until is None:
        return message("grace_left_sign_ins", count=count, times=times)
    until = when_text(grace.until, long=True)
    if count is None:
        return message("grace_left_until", until=until)
    return message("grace_left_both", count=count, times=times, until=until)


def _offered(request, kind: str, next_url: str | None):
    """``None`` when ``kind`` is offered to the user, else the redirect back to the choice."""
    if kind in selectors.offered_kinds(request.user):
        return None
    messages.error(request, MESSAGES["kind_not_offered"])
    return redirect(_with_next(reverse("enrollment:add"), next_url))


# ----------------------------------------------------------------------------------- launcher
@login_required
@require_GET
def launcher(request):
    now = clock.now()
    apps = selectors.launcher_apps(request.user, sign_in=sign_in_context(request, now=now, consume=False), now=now)
    return render(request, "enrollment/launcher.html", {
        "apps": apps,
        "devices": selectors.devices_for(request.user),
        "has_organization": bool(selectors.organizations_for(request.user)),
        "recovery": _recovery_summary(request.user),
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
@step_up_first
def add(request):
    next_url = _next(request)
    offered = selectors.offered_kinds(request.user)
    has_totp = any(d.kind == c.TOTP for d in selectors.devices_for(request.user))
    options = []
    for kind in offered:
        url = reverse("enrollment:add_totp") if kind == c.TOTP else reverse(
            "enrollment:add_webauthn", args=[SLUG_FOR_KIND[kind]])
        options.append({"kind": kind, "label": c.AUTHENTICATOR_LABELS[kind], "url": _with_next(url, next_url),
                        "disabled": kind == c.TOTP and has_totp})
    # Sent here by an application: the kinds it accepts first, the others apart, saying why.
    asked = requested.for_next(request, next_url)
    others = []
    if asked is not None:
        others = [o for o in options if o["kind"] not in asked.kinds]
        options = [o for o in options if o["kind"] in asked.kinds]
    return render(request, "enrollment/add.html", {
        "options": options,
        "other_options": others,
        "asked": asked,
        "asked_lead": message("enroll_for_app", app=asked.application, kinds=kinds_phrase(asked.kinds)) if asked else "",
        "other_kinds_note": message("other_kinds_note", app=asked.application) if asked else "",
        "grace_text": _grace_text(asked.grace) if asked and asked.grace else "",
        "has_organization": bool(selectors.organizations_for(request.user)),
        "next": next_url,
        "totp_exists": MESSAGES["totp_exists"],
    })


@login_required
@require_http_methods(["GET", "POST"])
@step_up_first
def add_totp(request):
    next_url = _next(request)
    refused = _offered(request, c.TOTP, next_url)
    if refused:
        return refused
    exists = any(d.kind == c.TOTP for d in selectors.devices_for(request.user))
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
            messages.success(request, MESSAGES["totp_added"])
            return redirect(_finish(next_url))
    uri = totp.provisioning_uri(key_hex=key_hex, account=request.user.email)
    return render(request, "enrollment/add_totp.html", {
        "form": form, "qr_svg": totp.qr_svg(uri), "setup_key": totp.setup_key_groups(key_hex),
        "next": next_url, "exists": exists, "totp_exists": MESSAGES["totp_exists"],
        "browser_messages": browser_messages(),
    })


@login_required
@require_GET
def add_webauthn(request, kind: str):
    next_url = _next(request)
    if kind not in KIND_SLUGS:
        return redirect(_with_next(reverse("enrollment:add"), next_url))
    return _add_webauthn(request, kind=KIND_SLUGS[kind], next_url=next_url)


@step_up_first
def _add_webauthn(request, *, kind: str, next_url: str | None):
    refused = _offered(request, kind, next_url)
    if refused:
        return refused
    return render(request, "enrollment/add_webauthn.html", {
        "kind": kind, "label": c.AUTHENTICATOR_LABELS[kind], "next": next_url,
        "restricted": bool(selectors.required_aaguid_lists(request.user)),
        "browser_messages": browser_messages(),
    })


@assertion.json_login_required
@require_POST
def register_options(request):
    data = assertion.json_body(request)
    if data is None or data.get("kind") not in WEBAUTHN_KINDS:
        return assertion.json_error(MESSAGES["choose_webauthn_kind"])
    if not step_up_window.allows_changes(request):
        return assertion.json_error(MESSAGES["step_up_required"], status=403)
    kind = data["kind"]
    if kind not in selectors.offered_kinds(request.user):
        return assertion.json_error(MESSAGES["kind_not_offered"], status=403)
    exclude = [(d.credential_id, d.transports) for d in selectors.devices_for(request.user) if d.is_webauthn]
    options = wa.registration_options(
        request=request, user=request.user, kind=kind, exclude=exclude,
        direct_attestation=bool(selectors.required_aaguid_lists(request.user)),
    )
    return JsonResponse({"ok": True, "options": options})


@assertion.json_login_required
@require_POST
def register_verify(request):
    data = assertion.json_body(request)
    if data is None:
        wa.discard_challenge(request, "register")
        return assertion.json_error(MESSAGES["webauthn_malformed"])
    name = data.get("name") if isinstance(data.get("name"), str) else ""
    try:
        authenticator = flows.webauthn_add(
            request=request, acting_user=request.user, credential=data.get("credential"), name=name
        )
    except (EnrollmentError, wa.WebAuthnError) as exc:
        wa.discard_challenge(request, "register")
        status = 403 if getattr(exc, "code", "") == "step_up_required" else 400
        return assertion.json_error(exc.message, status=status)
    messages.success(request, message("webauthn_added", label=c.AUTHENTICATOR_LABELS[authenticator.kind],
                                      name=authenticator.name))
    return JsonResponse({"ok": True, "redirect": _finish(safe_next(request, data.get("next")))})


# ------------------------------------------------------------------------------------ step-up
@login_required
@require_http_methods(["GET", "POST"])
def step_up(request):
    next_url = _next(request)
    user_devices = selectors.devices_for(request.user)
    if not user_devices:
        return redirect(next_url or reverse("enrollment:add"))
    has_totp = any(d.kind == c.TOTP for d in user_devices)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and has_totp and form.is_valid():
        try:
            authenticator = totp_verify(request=request, user=request.user, code=form.cleaned_data["code"],
                                        purpose=STEP_UP_PURPOSE)
        except VerificationError as exc:
            form.add_error("code", exc.message)
        else:
            step_up_window.open_window(request, authenticator=authenticator)
            return redirect(_finish(next_url))
    return render(request, "enrollment/step_up.html", {
        "form": form, "has_totp": has_totp, "has_webauthn": any(d.is_webauthn for d in user_devices),
        "next": next_url, "browser_messages": browser_messages(),
        "recovery_url": _with_next(reverse("enrollment:step_up_recovery"), next_url)
        if recovery.availability(request.user).allowed and recovery.remaining(request.user) else None,
    })


@login_required
@require_http_methods(["GET", "POST"])
def step_up_recovery(request):
    """Step-up with a recovery code: it opens the window like a verification; then on to where
    the person was going, or to add a new MFA device."""
    next_url = _next(request)
    if not selectors.has_devices(request.user):
        return redirect(next_url or reverse("enrollment:add"))
    form = RecoveryCodeForm(request.POST or None)
    availability = recovery.availability(request.user)
    if request.method == "POST" and availability.allowed and form.is_valid():
        try:
            left = recovery.use(request=request, user=request.user, code=form.cleaned_data["code"])
        except EnrollmentError as exc:
            form.add_error("code", exc.message)
        else:
            messages.success(request, message("recovery_code_accepted", remaining=left))
            return redirect(next_url or reverse("enrollment:add"))
    return render(request, "enrollment/recovery_use.html", {
        "form": form, "next": next_url, "back_url": _with_next(reverse("enrollment:step_up"), next_url),
        "availability": availability,
    }, status=400 if form.errors else 200)


# ------------------------------------------------------------------------------ recovery codes
def _recovery_summary(user) -> dict:
    return {"availability": recovery.availability(user), "has_codes": recovery.has_codes(user),
            "remaining": recovery.remaining(user), "count": recovery.COUNT}


@login_required
@require_GET
def recovery_codes(request):
    return render(request, "enrollment/recovery_codes.html", {
        **_recovery_summary(request.user), "has_devices": selectors.has_devices(request.user),
    })


@never_cache
@login_required
@require_POST
@step_up_first(come_back_to="enrollment:recovery_codes")
def recovery_codes_generate(request):
    """Generate (or regenerate) the codes and show them in this response only: they are never
    stored in the clear, so a reload cannot show them again."""
    replaced = recovery.has_codes(request.user)
    try:
        codes = recovery.generate(request=request, acting_user=request.user)
    except EnrollmentError as exc:
        messages.error(request, exc.message)
        return redirect("enrollment:recovery_codes")
    messages.success(request, MESSAGES["recovery_codes_generated"])
    generated_at = clock.now()
    text = "\n".join([
        f"mfagate recovery codes for {request.user.email}",
        f"generated {generated_at:%Y-%m-%d %H:%M} UTC; each code works once",
        "", *codes, "",
    ])
    return render(request, "enrollment/recovery_codes_new.html", {
        "codes": codes, "download_text": text, "recovery_messages": recovery_browser_messages(),
        "generated_at": generated_at, "replaced": replaced,
    })


@assertion.json_login_required
@require_POST
def step_up_options(request):
    return assertion.options_response(request, kinds=WEBAUTHN_KINDS, purpose=STEP_UP_PURPOSE)


@assertion.json_login_required
@require_POST
def step_up_verify(request):
    verified = assertion.verify(request, kinds=WEBAUTHN_KINDS, purpose=STEP_UP_PURPOSE)
    if isinstance(verified, JsonResponse):
        return verified
    authenticator, data = verified
    step_up_window.open_window(request, authenticator=authenticator)
    return JsonResponse({"ok": True, "redirect": _finish(safe_next(request, data.get("next")))})


# ------------------------------------------------------------------------------------- remove
@login_required
@require_http_methods(["GET", "POST"])
def remove(request, authenticator_id):
    """``GET``: "Remove “<name>”?" — the confirmation page, a plain form (no script needed).
    ``POST`` (that form): remove the device. Both need the step-up window; without it the person
    verifies first and comes back to the confirmation. A device that is not one of the user's —
    another user's, or one already removed (the confirmation sent twice) — gets a page saying so
    (404), and nothing is removed."""
    return _remove(request, authenticator_id=authenticator_id)


def _not_found(request):
    return render(request, "enrollment/remove_confirm.html", {"missing": MESSAGES["device_not_found"]}, status=404)


@step_up_first
def _remove(request, *, authenticator_id):
    if request.method == "GET":
        device = selectors.device_of(request.user, authenticator_id)
        if device is None:
            return _not_found(request)
        return render(request, "enrollment/remove_confirm.html", {
            "device": device,
            "question": message("device_remove_confirm", name=device.name),
            "consequence": MESSAGES["device_remove_consequence"],
            "last_device": MESSAGES["device_remove_last"] if len(selectors.devices_for(request.user)) == 1 else "",
        })
    try:
        removed = flows.authenticator_remove(request=request, acting_user=request.user,
                                             authenticator_id=authenticator_id)
    except Http404:
        return _not_found(request)
    except EnrollmentError as exc:  # the window closed between the check above and the flow's own
        messages.info(request, exc.message)
        return redirect(_with_next(reverse("enrollment:step_up"), request.path))
    messages.success(request, message("device_removed", name=removed["name"]))
    return redirect("enrollment:devices")
