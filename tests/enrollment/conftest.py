"""Fixtures of the enrollment tests: a member of an organization that offers every kind of
authenticator."""

from __future__ import annotations

import pytest

from mfa_policies import constants as c


@pytest.fixture
def member_org(make_org):
    """An organization offering every kind of authenticator (TOTP, security key, biometrics)."""
    return make_org(allowed_authenticators=[c.TOTP, c.SECURITY_KEY, c.BIOMETRICS])


@pytest.fixture
def member(make_user, make_member, member_org):
    """A user who belongs to member_org only."""
    user = make_user()
    make_member(user, member_org)
    return user
