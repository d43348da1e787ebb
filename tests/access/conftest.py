"""Fixtures of the enforcement runtime's tests: the test IdP for real enterprise sign-ins.

The IdP itself (starting it, signing in through it) is in tests/support/oidc.py."""

from __future__ import annotations

import datetime as dt

import pytest

from mfa_policies import constants as c
from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, OIDC_PROVIDER_ID, running_idp


@pytest.fixture(scope="session")
def oidc_idp():
    """The test IdP on a free loopback port, for the whole test session."""
    with running_idp() as idp:
        yield idp


@pytest.fixture
def corp_oidc(db, oidc_idp):
    """allauth's SocialApp for the test IdP (``server_url`` is the issuer, exactly) and mfagate's
    enterprise Connection ``corp`` signing in through it."""
    from allauth.socialaccount.models import SocialApp

    from mfa_policies.models import Connection

    SocialApp.objects.create(
        provider="openid_connect", provider_id=OIDC_PROVIDER_ID, name="Corp IdP",
        client_id=CLIENT_ID, secret=CLIENT_SECRET,
        settings={"server_url": oidc_idp.issuer, "scope": ["openid", "profile", "email"]},
    )
    return Connection.objects.create(key="corp", name="Corp IdP", kind=c.CONNECTION_OIDC,
                                     provider_id=OIDC_PROVIDER_ID)


@pytest.fixture
def idp_clock(clock):
    """The movable server clock, set a few seconds ahead of the real time: the IdP stamps
    ``auth_time`` (and allauth checks the ID token's expiry) with the real clock, and an
    ``auth_time`` later than the server's now is recorded as now."""
    clock.set(dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=5))
    return clock

