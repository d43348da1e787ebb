"""The two WebAuthn assertion endpoints — options, then verify — shared by the step-up
(``/account/mfa-devices/verify/…``) and the MFA challenge (``/mfa/verify/…``).

Both answer ``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}`` and never a 500 for bad
input. What happens after a successful verification (open the step-up window, finish the login
flow) is the caller's.
"""

from __future__ import annotations

import json
from functools import wraps

from django.http import JsonResponse

from . import webauthn as wa
from .messages import MESSAGES
from .verification import VerificationError, webauthn_assertion_options, webauthn_assertion_verify


def json_error(text: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"ok": False, "error": text}, status=status)


def json_login_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return json_error(MESSAGES["sign_in_first"], status=401)
        return view(request, *args, **kwargs)

    return wrapper


def json_body(request) -> dict | None:
    """The request's JSON object, or ``None`` when the body is not one."""
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def options_response(request, *, kinds, purpose: str) -> JsonResponse:
    """Request options for the user's authenticators of ``kinds``; a single-use challenge is kept
    in the session under ``purpose``."""
    try:
        options = webauthn_assertion_options(request=request, user=request.user, kinds=kinds, purpose=purpose)
    except VerificationError as exc:
        return json_error(exc.message)
    return JsonResponse({"ok": True, "options": options})


def verify(request, *, kinds, purpose: str):
    """``(authenticator, body)`` for a verified response posted as ``{"credential": …, …}`` (or the
    bare credential), else the JSON error to answer. The challenge is consumed either way."""
    data = json_body(request)
    if data is None:
        wa.discard_challenge(request, purpose)
        return json_error(MESSAGES["webauthn_malformed"])
    credential = data["credential"] if "credential" in data else data
    try:
        authenticator = webauthn_assertion_verify(request=request, user=request.user, kinds=kinds,
                                                  purpose=purpose, credential=credential)
    except VerificationError as exc:
        return json_error(exc.message)
    return authenticator, data
