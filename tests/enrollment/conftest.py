"""Fixtures of the enrollment tests: a member of an organization that offers every kind of
authenticator."""

from __future__ import annotations

import pytest

from mfa_policies import constants as c


@pytest.fixture
def org(make_org):
    return make_org(allowed_authenticators=[c.TOTP, c.SECURITY_KEY, c.BIOMETRICS])


@pytest.fixture
def member(make_user, make_member, org):
    user = make_user()
    make_member(user, org)
    return user
