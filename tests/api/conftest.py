"""Fixtures of the REST API tests: the seed's organization (api_org), the admin who owns the tokens
(api_admin, named apart from pytest-django's admin_user), tokens, and a client sending one."""

from __future__ import annotations

import pytest

from api.scopes import SCOPES
from tests.support.api import SEED_DOMAIN, ApiClient


@pytest.fixture
def api_admin(make_user):
    """The staff superuser who creates the API tokens and, unless told otherwise, owns them."""
    return make_user("admin@api.test", is_staff=True, is_superuser=True)


@pytest.fixture
def make_token(db, api_admin):
    """Makes an API token for an organization (every scope unless told); returns (token, plaintext)."""
    from api.models import ApiToken
    from api.services import api_token_create

    def make(org, scopes=SCOPES, owner=None, **fields):
        token, plaintext = api_token_create(
            acting_user=api_admin,
            token=ApiToken(name="ci", owner=owner or api_admin, organization=org, scopes=list(scopes), **fields),
        )
        return token, plaintext

    return make


@pytest.fixture
def api_org(make_org):
    """The seed's organization, "Your Team Name" on the seed auth domain, MFA off: the one `api` speaks to."""
    return make_org("Your Team Name", auth_domain=SEED_DOMAIN, allowed_authenticators=[])


@pytest.fixture
def api(client, api_org, make_token):
    """An ApiClient for api_org with a token holding every scope."""
    _, plaintext = make_token(api_org)
    return ApiClient(client, api_org.account_id, plaintext)

