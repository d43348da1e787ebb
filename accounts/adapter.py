"""django-allauth adapters: every sign-in records its connection, the IdP's ``amr`` and the time.

- email + password → connection ``password``; allauth's login by code → ``email_otp``;
- a social (enterprise) login → the enterprise :class:`~mfa_policies.models.Connection` whose
  ``provider_id`` is the allauth provider id (``unregistered:<provider>`` when none is,
  ``ambiguous:<provider>`` when several are, so no exemption can apply by accident), with ``amr``
  and ``auth_time`` from the ID token.

The record is written in :meth:`AccountAdapter.post_login`, after Django's ``login()`` rotated the
session key; see :func:`accounts.sign_in.record_sign_in`. :func:`safe_next` is the one check of a
redirect target (``next``) every page uses.
"""

from __future__ import annotations

import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.utils.http import url_has_allowed_host_and_scheme

from mfa_policies.app_settings import app_settings
from mfa_policies import constants as c
from .sign_in import connection_for_provider, record_sign_in

log = logging.getLogger("mfagate.signin")

_ALLAUTH_METHOD_TO_CONNECTION = {
    "password": c.CONNECTION_PASSWORD,
    "password_reset": c.CONNECTION_PASSWORD,
    "code": c.CONNECTION_EMAIL_OTP,
}


def id_token_claims(sociallogin) -> dict:
    data = getattr(sociallogin.account, "extra_data", None) or {}
    claims = data.get("id_token") if isinstance(data, dict) else None
    return claims if isinstance(claims, dict) else {}


def record_allauth_sign_in(request, user, sociallogin=None) -> None:
    """Record the sign-in that allauth just completed for ``user``."""
    if sociallogin is not None:
        claims = id_token_claims(sociallogin)
        record_sign_in(request, connection=connection_for_provider(sociallogin.account.provider),
                       amr=claims.get("amr"), auth_time=claims.get("auth_time"))
        return
    records = get_authentication_records(request, user)
    method = records[-1].get("method") if records else None
    connection = _ALLAUTH_METHOD_TO_CONNECTION.get(method)
    if connection is None:
        log.warning("sign-in of %s by unknown allauth method %r; no connection recorded", user.pk, method)
        connection = f"unknown:{method}"
    record_sign_in(request, connection=connection)


def safe_next(request, candidate: str | None, default: str | None = "/") -> str | None:
    """``candidate`` if it stays on this site, else ``default`` (SECURITY row 22). The same rule
    as allauth's ``is_safe_url``, so a ``next`` means the same on every page."""
    if candidate and isinstance(candidate, str) and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        """Accounts are created by admins unless ``MFAGATE_OPEN_SIGNUP`` says otherwise: an MFA
        gateway should not let strangers register (they would match no policy, but still)."""
        return app_settings.OPEN_SIGNUP

    def post_login(self, request, user, *, signal_kwargs=None, **kwargs):
        record_allauth_sign_in(request, user, (signal_kwargs or {}).get("sociallogin"))
        return super().post_login(request, user, signal_kwargs=signal_kwargs, **kwargs)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Enterprise connections sign existing users in; the sign-in itself is recorded by
    :class:`AccountAdapter` (``post_login`` receives the ``sociallogin``)."""

    def is_open_for_signup(self, request, sociallogin):
        """Enterprise identity providers may provision users on first sign-in (they vouch for the
        person); such users still match no policy until an admin gives them a membership."""
        return app_settings.ENTERPRISE_SIGNUP
