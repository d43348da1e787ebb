"""Bearer-token authentication, scopes, and the one decorator every endpoint wears.

Order of checks: method (405), token (401), the token's account against the URL's (404 — a token
never learns whether another account exists), scope (403). Everything below the decorator raises
:class:`~api.envelope.ApiError` or a Django exception; the decorator turns each into an envelope.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import logging

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import Q
from django.http import Http404
from django.views.decorators.csrf import csrf_exempt

from accounts.audit import client_ip
from mfa_policies import clock

from . import envelope
from .envelope import ApiError
from .models import KEY_ID_LENGTH, TOKEN_PREFIX, ApiToken, hash_token

log = logging.getLogger("mfagate.api")
_DUMMY_HASH = hash_token("mfagate_not-a-token")


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, [(envelope.UNAUTHENTICATED, message)], headers={"WWW-Authenticate": 'Bearer realm="mfagate"'})


def authenticate(request) -> ApiToken:
    """The usable token named by ``Authorization: Bearer …``, or a 401."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, plaintext = header.partition(" ")
    plaintext = plaintext.strip()
    if scheme.lower() != "bearer" or not plaintext:
        raise _unauthenticated("Authentication required: send Authorization: Bearer <token>.")
    key_id = plaintext[len(TOKEN_PREFIX):len(TOKEN_PREFIX) + KEY_ID_LENGTH] if plaintext.startswith(TOKEN_PREFIX) else ""
    token = (ApiToken.objects.select_related("owner", "organization").filter(key_id=key_id).first()
             if key_id else None)
    # Compare in constant time, and compare something even when no row matched.
    matches = hmac.compare_digest(token.secret_hash if token else _DUMMY_HASH, hash_token(plaintext))
    if token is None or not matches or not token.is_usable():
        raise _unauthenticated("Invalid, expired or revoked API token.")
    _touch(token)
    return token


LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def _touch(token: ApiToken) -> None:
    """Record ``last_used_at`` at most once a minute per token: a read costs no write, and
    concurrent requests in the same minute write once (the update is conditional)."""
    now = clock.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
    if ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now):
        token.last_used_at = now


def endpoint(**scopes_by_method):
    """``@endpoint(GET=READ_…, PUT=WRITE_…)``: each method with the scopes of which one suffices.

    The view is called as ``view(request, token, **url_kwargs)`` once the token is known to work on
    the URL's account and to hold a scope for the method.
    """

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, account_id, **kwargs):
            try:
                if request.method not in scopes_by_method:
                    raise ApiError(405, [(envelope.METHOD_NOT_ALLOWED, f"Method {request.method} not allowed here; "
                                          f"use {', '.join(scopes_by_method)}.")],
                                   headers={"Allow": ", ".join(scopes_by_method)})
                token = authenticate(request)
                if token.organization.account_id != account_id:
                    raise envelope.not_found("No such account.")
                needed = scopes_by_method[request.method]
                if not set(needed) & set(token.scopes):
                    raise ApiError(403, [(envelope.FORBIDDEN,
                                          f"This token lacks the scope for {request.method}; it needs one of "
                                          f"{', '.join(needed)}.")])
                request.api_token = token
                return view(request, token, **kwargs)
            except ApiError as exc:
                return exc.response()
            except ValidationError as exc:
                return envelope.from_validation_error(exc).response()
            except (Http404, ObjectDoesNotExist):
                return envelope.not_found().response()
            except PermissionDenied as exc:
                return ApiError(403, [(envelope.FORBIDDEN, str(exc) or "Permission denied.")]).response()
            except IntegrityError:
                log.warning("API write lost a race", exc_info=True)
                return ApiError(409, [(envelope.CONFLICT, "A concurrent change got there first; retry.")]).response()

        return wrapper

    return decorate


ip_address = client_ip  # the API views' name for it