"""The demo organization allows biometrics, so seed 002's "Biometrics → Register biometrics" works
on the seeded demo without touching the admin (issue 11, end-user polish)."""

from __future__ import annotations

import json

import pytest

from accounts.models import AuditEvent, User
from enrollment.models import Authenticator
from mfa_policies import constants as c
from mfa_policies.models import Organization
from tests.support.authenticators import ORIGIN
from tests.support.webauthn_fakes import FakeAuthenticator

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _webauthn_settings(settings):
    settings.MFAGATE_WEBAUTHN_RP_ID = "localhost"
    settings.MFAGATE_WEBAUTHN_ORIGINS = [ORIGIN]
    settings.MFAGATE_WEBAUTHN_EXTRA_ROOT_CERTS = []


def test_the_demo_organization_allows_all_three_kinds(demo):
    assert Organization.objects.get(name="Demo").allowed_authenticators == [c.TOTP, c.SECURITY_KEY, c.BIOMETRICS]


def test_the_seed_writes_it_through_the_audited_service(demo):
    """Seeded through configuration_save: the organization's audit row holds the methods."""
    event = AuditEvent.objects.filter(action__startswith="organization", object_id=str(demo.pk)).latest("id")
    assert event.after["allowed_authenticators"] == [c.TOTP, c.SECURITY_KEY, c.BIOMETRICS]


def test_resetting_a_demo_changed_in_the_admin_brings_biometrics_back(demo):
    from mfa_policies.demo.seed import demo_reset
    from mfa_policies.services import configuration_save

    org = Organization.objects.get(name="Demo")
    org.allowed_authenticators = [c.TOTP]
    configuration_save(acting_user=None, instance=org)
    result = demo_reset()
    assert "organization “Demo”: allowed_authenticators" in result.reset
    assert Organization.objects.get(name="Demo").allowed_authenticators == [c.TOTP, c.SECURITY_KEY, c.BIOMETRICS]


def test_a_demo_user_is_offered_and_registers_biometrics(client, demo, clock):
    user = User.objects.get(email="other@demo.test")
    client.force_login(user)
    page = client.get("/AddMfaDevice").content.decode()
    assert 'href="/account/mfa-devices/add/biometrics/"' in page
    add = client.get("/account/mfa-devices/add/biometrics/")
    assert add.status_code == 200 and "Register biometrics" in add.content.decode()
    options = client.post("/account/mfa-devices/webauthn/register/options/", {"kind": c.BIOMETRICS},
                          content_type="application/json").json()
    assert options["ok"], options
    fake = FakeAuthenticator(attachment="platform", transports=["internal"])
    done = client.post("/account/mfa-devices/webauthn/register/verify/",
                       json.dumps({"credential": fake.register(options["options"], origin=ORIGIN), "name": "Laptop"}),
                       content_type="application/json").json()
    assert done["ok"], done
    assert Authenticator.objects.get(user=user).kind == c.BIOMETRICS

