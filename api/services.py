"""Creating and revoking API tokens: atomic and audited, like every other change."""

from __future__ import annotations

import secrets

from django.db import transaction

from accounts.audit import audit_record
from mfa_policies import clock

from .models import KEY_ID_LENGTH, TOKEN_PREFIX, ApiToken, hash_token


def _public(token: ApiToken) -> dict:
    return {"name": token.name, "key_id": token.key_id, "owner": token.owner.email,
            "organization": token.organization.account_id, "scopes": list(token.scopes),
            "expires_at": token.expires_at.isoformat() if token.expires_at else None}


@transaction.atomic
def api_token_create(*, acting_user, token: ApiToken, ip_address: str | None = None) -> tuple[ApiToken, str]:
    """Validate and save ``token`` (name, owner, organization, scopes, expires_at) with a fresh
    secret. Returns the token and its plaintext, which is never stored and cannot be shown again."""
    key_id = secrets.token_hex(KEY_ID_LENGTH // 2)
    plaintext = f"{TOKEN_PREFIX}{key_id}{secrets.token_urlsafe(32)}"
    token.key_id = key_id
    token.secret_hash = hash_token(plaintext)
    token.created_at = clock.now()
    token.full_clean()
    token.save()
    audit_record(actor=acting_user, action="apitoken.create", obj=token, ip_address=ip_address,
                 after=_public(token))
    return token, plaintext


@transaction.atomic
def api_token_revoke(*, acting_user, token: ApiToken, ip_address: str | None = None) -> ApiToken:
    """Revoke ``token`` for good (idempotent); it answers 401 from the next request on."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=acting_user, action="apitoken.revoke", obj=token, ip_address=ip_address,
                     before=_public(token))
    return token
