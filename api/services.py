"""Creating and revoking API tokens: atomic and audited, like every other change."""

from __future__ import annotations

import secrets

from django.db import transaction

from accounts.audit import audit_record
from mfa_policies import clock

from .models import KEY_ID_LENGTH, TOKEN_PREFIX, ApiToken, StoredFields, hash_token


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


_STORED_LINK = {"organization": "organization", "application": "application", "policy": "policy",
                "aaguidlist": "aaguid_list"}


def stored_fields_of(instance) -> StoredFields | None:
    """The stored API fields of an organization, application, policy or AAGUID list, if any."""
    link = _STORED_LINK[instance._meta.model_name]
    return StoredFields.objects.filter(**{link: instance}).first() if instance.pk is not None else None


def stored_fields_by(model_name: str, ids) -> dict:
    """Stored API fields of many objects of one kind in one query: primary key → row."""
    link = _STORED_LINK[model_name]
    return {getattr(row, f"{link}_id"): row for row in StoredFields.objects.filter(**{f"{link}__in": list(ids)})}


@transaction.atomic
def stored_fields_save(*, acting_user, instance, extras, ip_address: str | None = None) -> StoredFields:
    """Keep, for ``instance``, the Cloudflare fields mfagate does not act on, the order its lists
    were sent in and the names the client used (``extras``: fields, orders, aliases). A change of
    the Cloudflare fields is audited (``<model>.cloudflare_fields``) in the caller's transaction; the
    order and the names are presentation only, and nothing here touches the decision, so no
    configuration version moves."""
    link = _STORED_LINK[instance._meta.model_name]
    row = StoredFields.objects.select_for_update().filter(**{link: instance}).first() or StoredFields(
        **{link: instance})
    before = dict(row.fields)
    row.fields, row.orders, row.aliases = dict(extras.fields), dict(extras.orders), dict(extras.aliases)
    row.save()
    if before != row.fields:
        audit_record(actor=acting_user, action=f"{instance._meta.model_name}.cloudflare_fields", obj=instance,
                     ip_address=ip_address, before=before, after=row.fields)
    return row
