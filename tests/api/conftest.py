"""Fixtures of the REST API tests: the organization a token is for, its admin, tokens, and a
client sending that token."""

from __future__ import annotations

import pytest

from api.scopes import SCOPES
from tests.support.api import SEED_DOMAIN, ApiClient


@pytest.fixture
def admin_user(make_user):
    return make_user("admin@api.test", is_staff=True, is_superuser=True)


@pytest.fixture
def make_token(db, admin_user):
    from api.models import ApiToken
    from api.services import api_token_create

    def make(org, scopes=SCOPES, owner=None, **fields):
        token, plaintext = api_token_create(
            acting_user=admin_user,
            token=ApiToken(name="ci", owner=owner or admin_user, organization=org, scopes=list(scopes), **fields),
        )
        return token, plaintext

    return make


@pytest.fixture
def org(make_org):
    return make_org("Your Team Name", auth_domain=SEED_DOMAIN, allowed_authenticators=[])


@pytest.fixture
def api(client, org, make_token):
    _, plaintext = make_token(org)
    return ApiClient(client, org.account_id, plaintext)

