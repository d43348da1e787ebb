"""Enrolling security keys and biometrics through the portal's JSON endpoints."""

from __future__ import annotations

import json

import pytest

from accounts.models import AuditEvent
from enrollment.models import Authenticator
from mfa_policies import constants as c
from mfa_policies.models import AaguidItem, AaguidList
from tests.support.authenticators import ORIGIN, enroll_webauthn
from tests.support.webauthn_fakes import AttestationAuthority, FakeAuthenticator

pytestmark = pytest.mark.django_db
OPTIONS = "/account/mfa-devices/webauthn/register/options/"
VERIFY = "/account/mfa-devices/webauthn/register/verify/"
CHROMIUM_AAGUID = "01020304050607080102030405060708"
YUBIKEY_5_AAGUID = "cb69481e8ff7403993ec0a2729a154a8"


@pytest.fixture(autouse=True)
def _webauthn_settings(settings):
    settings.MFAGATE_WEBAUTHN_RP_ID = "localhost"
    settings.MFAGATE_WEBAUTHN_ORIGINS = [ORIGIN]
    settings.MFAGATE_WEBAUTHN_EXTRA_ROOT_CERTS = []


def _options(client, kind=c.SECURITY_KEY):
    response = client.post(OPTIONS, {"kind": kind}, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()["options"]


def _verify(client, credential, name=""):
    return client.post(VERIFY, json.dumps({"credential": credential, "name": name}), content_type="application/json")


def _refused(response, fragment):
    body = response.json()
    assert response.status_code == 400 and body["ok"] is False
    assert fragment in body["error"], body["error"]
    return body


def test_a_security_key_enrolls_with_its_credential_stored(client, member, clock):
    client.force_login(member)
    fake = FakeAuthenticator(attachment="cross-platform")
    options = _options(client)
    assert options["authenticatorSelection"]["authenticatorAttachment"] == "cross-platform"
    assert options["attestation"] == "none"
    response = _verify(client, fake.register(options, origin=ORIGIN), name="Blue key")
    assert response.json() == {"ok": True, "redirect": "/account/mfa-devices/"}
    stored = Authenticator.objects.get(user=member)
    assert (stored.kind, stored.name, stored.credential_id, stored.sign_count) == (c.SECURITY_KEY, "Blue key", fake.id, 1)
    assert stored.aaguid == CHROMIUM_AAGUID and stored.transports == ["usb"] and stored.attestation_format == "none"
    assert AuditEvent.objects.filter(action="authenticator.added", object_id=str(stored.pk)).exists()


def test_a_device_without_a_name_gets_the_fido_metadata_name(client, member, clock):
    client.force_login(member)
    response = _verify(client, FakeAuthenticator(aaguid=YUBIKEY_5_AAGUID).register(_options(client), origin=ORIGIN))
    assert response.json()["ok"]
    assert "YubiKey" in Authenticator.objects.get(user=member).name


def test_an_unknown_model_without_a_name_is_called_security_key(client, member, clock):
    client.force_login(member)
    _verify(client, FakeAuthenticator().register(_options(client), origin=ORIGIN))
    assert Authenticator.objects.get(user=member).name == "Security key"


def test_biometrics_require_platform_attachment_and_user_verification(client, member, clock):
    client.force_login(member)
    options = _options(client, c.BIOMETRICS)
    assert options["authenticatorSelection"] == {
        "authenticatorAttachment": "platform", "residentKey": "discouraged", "requireResidentKey": False,
        "userVerification": "required"}
    fake = FakeAuthenticator(attachment="platform", transports=["internal"])
    assert _verify(client, fake.register(options, origin=ORIGIN)).json()["ok"]
    assert Authenticator.objects.get(user=member).kind == c.BIOMETRICS


def test_biometrics_without_user_verification_are_refused(client, member, clock):
    client.force_login(member)
    fake = FakeAuthenticator(attachment="platform", transports=["internal"])
    _refused(_verify(client, fake.register(_options(client, c.BIOMETRICS), origin=ORIGIN, uv=False)), "user verification")
    assert not Authenticator.objects.exists()


def test_the_reported_attachment_decides_and_a_mismatch_is_refused(client, member, clock):
    client.force_login(member)
    platform = FakeAuthenticator(attachment="platform")
    _refused(_verify(client, platform.register(_options(client, c.SECURITY_KEY), origin=ORIGIN)), "Choose Biometrics")
    usb = FakeAuthenticator(attachment="cross-platform")
    _refused(_verify(client, usb.register(_options(client, c.BIOMETRICS), origin=ORIGIN)), "Choose Security key")
    _refused(_verify(client, usb.register(_options(client), origin=ORIGIN, attachment=None)), "did not report")
    assert not Authenticator.objects.exists()


def test_the_same_registration_posted_twice_fails_the_second_time(client, member, clock):
    from tests.support.authenticators import code_at, enroll_totp

    _, otp = enroll_totp(member)
    client.force_login(member)
    client.post("/account/mfa-devices/verify/", {"code": code_at(otp)})  # step-up: the window stays open
    response = FakeAuthenticator().register(_options(client), origin=ORIGIN)
    assert _verify(client, response).json()["ok"]
    _refused(_verify(client, response), "expired or was already used")
    assert Authenticator.objects.filter(kind=c.SECURITY_KEY).count() == 1


@pytest.mark.parametrize("change,fragment", [
    ({"origin": "https://evil.example"}, "expected address"),
    ({"rp_id": "evil.example"}, "another site"),
    ({"challenge": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, "expired or was already used"),
    ({"client_type": "webauthn.get"}, "could not be verified"),
    ({"up": False}, "could not be verified"),
    ({"bs": True, "be": False}, "could not be verified"),
])
def test_tampered_registrations_are_refused_and_nothing_is_stored(client, member, clock, change, fragment):
    client.force_login(member)
    options = _options(client)
    kwargs = {"origin": ORIGIN, **change}
    _refused(_verify(client, FakeAuthenticator().register(options, **kwargs)), fragment)
    assert not Authenticator.objects.exists() and not AuditEvent.objects.exists()


@pytest.mark.parametrize("body", ["", "nope", "[]", '{"credential": "x"}', '{"credential": {"id": "x"}}',
                                  '{"credential": {"id": "x", "response": {"attestationObject": "!!"}, "authenticatorAttachment": "cross-platform"}}',
                                  '{"credential": {"id": "x", "response": {"attestationObject": "AAAA"}, "authenticatorAttachment": "cross-platform"}}'])
def test_malformed_json_is_a_clear_error_never_a_500(client, member, clock, body):
    client.force_login(member)
    _options(client)
    response = client.post(VERIFY, body, content_type="application/json")
    assert response.status_code == 400 and response.json()["ok"] is False
    assert not Authenticator.objects.exists()


def test_a_credential_registered_to_another_user_is_refused(client, member, make_user, make_member, member_org, clock):
    other = make_user()
    make_member(other, member_org)
    fake = FakeAuthenticator()
    enroll_webauthn(other, fake)
    client.force_login(member)
    clone = FakeAuthenticator()
    _refused(_verify(client, clone.register(_options(client), origin=ORIGIN, credential_id=fake.credential_id)),
             "already registered")
    assert Authenticator.objects.filter(user=member).count() == 0


def test_registered_credentials_are_excluded(client, member, clock):
    fake = FakeAuthenticator()
    enroll_webauthn(member, fake)
    client.force_login(member)
    from enrollment import step_up
    from mfa_policies.generation import stored_user_generation

    session = client.session
    session.save()
    # Open the step-up window the honest way is tested elsewhere; here only the options matter.
    session[step_up.SESSION_KEY] = {"at": clock.now.timestamp(), "session_key": session.session_key,
                                    "generation": stored_user_generation(member.pk)}
    session.save()
    assert [d["id"] for d in _options(client)["excludeCredentials"]] == [fake.id]


def test_a_kind_the_organizations_do_not_offer_is_refused(client, make_user, make_org, make_member, clock):
    user = make_user()
    make_member(user, make_org(allowed_authenticators=[c.TOTP]))
    client.force_login(user)
    response = client.post(OPTIONS, {"kind": c.SECURITY_KEY}, content_type="application/json")
    assert response.status_code == 403 and "do not allow" in response.json()["error"]


# -------------------------------------------------------------------------------- AAGUID lists
def _restrict(org, *aaguids, name="Approved keys"):
    lst = AaguidList.objects.create(organization=org, name=name)
    for value in aaguids:
        AaguidItem.objects.create(aaguid_list=lst, value=value)
    org.required_aaguids = lst
    org.save()
    return lst


def test_with_a_list_direct_attestation_is_requested(client, member, member_org, clock):
    _restrict(member_org, CHROMIUM_AAGUID)
    client.force_login(member)
    assert _options(client)["attestation"] == "direct"


def test_an_all_zero_aaguid_is_refused_while_a_list_applies(client, member, member_org, clock):
    _restrict(member_org, CHROMIUM_AAGUID)
    client.force_login(member)
    _refused(_verify(client, FakeAuthenticator().register(_options(client), origin=ORIGIN, aaguid="0" * 32)),
             "does not identify its model")
    assert not Authenticator.objects.exists()


def test_an_aaguid_off_the_list_is_refused(client, member, member_org, clock, settings):
    authority = AttestationAuthority()
    settings.MFAGATE_WEBAUTHN_EXTRA_ROOT_CERTS = [authority.pem]
    _restrict(member_org, YUBIKEY_5_AAGUID)
    client.force_login(member)
    fake = FakeAuthenticator(authority=authority)
    _refused(_verify(client, fake.register(_options(client), origin=ORIGIN, fmt="packed")), "not on your organization")


def test_none_or_self_attestation_cannot_prove_a_listed_aaguid(client, member, member_org, clock):
    _restrict(member_org, CHROMIUM_AAGUID)
    client.force_login(member)
    _refused(_verify(client, FakeAuthenticator().register(_options(client), origin=ORIGIN, fmt="none")), "did not prove")
    _refused(_verify(client, FakeAuthenticator().register(_options(client), origin=ORIGIN, fmt="packed-self")), "did not prove")
    assert not Authenticator.objects.exists()


def test_a_self_reported_aaguid_signed_by_an_untrusted_root_is_refused(client, member, member_org, clock):
    """A forged attestation claiming a YubiKey's AAGUID: the chain does not lead to Yubico's root."""
    _restrict(member_org, YUBIKEY_5_AAGUID)
    client.force_login(member)
    fake = FakeAuthenticator(aaguid=YUBIKEY_5_AAGUID, authority=AttestationAuthority())
    _refused(_verify(client, fake.register(_options(client), origin=ORIGIN, fmt="packed")), "cannot be trusted")
    assert not Authenticator.objects.exists()


def test_an_attestation_certificate_naming_another_model_is_refused(client, member, member_org, clock, settings):
    authority = AttestationAuthority()
    settings.MFAGATE_WEBAUTHN_EXTRA_ROOT_CERTS = [authority.pem]
    _restrict(member_org, CHROMIUM_AAGUID)
    client.force_login(member)
    fake = FakeAuthenticator(authority=authority)
    _refused(_verify(client, fake.register(_options(client), origin=ORIGIN, fmt="packed", cert_aaguid=YUBIKEY_5_AAGUID)),
             "cannot be trusted")


def test_a_listed_aaguid_with_a_trusted_chain_enrolls(client, member, member_org, clock, settings):
    authority = AttestationAuthority()
    settings.MFAGATE_WEBAUTHN_EXTRA_ROOT_CERTS = [authority.pem]
    _restrict(member_org, CHROMIUM_AAGUID)
    client.force_login(member)
    fake = FakeAuthenticator(authority=authority)
    assert _verify(client, fake.register(_options(client), origin=ORIGIN, fmt="packed")).json()["ok"]
    assert Authenticator.objects.get(user=member).attestation_format == "packed"


def test_the_aaguid_must_be_on_every_organizations_list(client, member, make_org, make_member, member_org, clock,
                                                        settings):
    authority = AttestationAuthority()
    settings.MFAGATE_WEBAUTHN_EXTRA_ROOT_CERTS = [authority.pem]
    _restrict(member_org, CHROMIUM_AAGUID)
    second = make_org(allowed_authenticators=[c.SECURITY_KEY])
    make_member(member, second)
    _restrict(second, YUBIKEY_5_AAGUID, name="Only YubiKeys")
    client.force_login(member)
    fake = FakeAuthenticator(authority=authority)
    _refused(_verify(client, fake.register(_options(client), origin=ORIGIN, fmt="packed")), "Only YubiKeys")


def test_keys_enrolled_before_a_list_keep_working(member, member_org, clock):
    from enrollment.verification import webauthn_assertion_options, webauthn_assertion_verify
    from tests.support.authenticators import session_request

    fake = FakeAuthenticator()
    enroll_webauthn(member, fake)
    _restrict(member_org, YUBIKEY_5_AAGUID)
    request = session_request(member)
    kinds = [c.SECURITY_KEY]
    options = webauthn_assertion_options(request=request, user=member, kinds=kinds, purpose="mfa")
    webauthn_assertion_verify(request=request, user=member, kinds=kinds, purpose="mfa",
                              credential=fake.assert_(options, origin=ORIGIN))


def test_a_reissued_self_signed_batch_certificate_is_trusted_by_its_key(client, member, member_org, clock, settings):
    from tests.support.webauthn_fakes import SelfSignedBatch

    batch = SelfSignedBatch()
    settings.MFAGATE_WEBAUTHN_EXTRA_ROOT_CERTS = [batch.pem]
    _restrict(member_org, CHROMIUM_AAGUID)
    client.force_login(member)
    fake = FakeAuthenticator(authority=batch)
    assert _verify(client, fake.register(_options(client), origin=ORIGIN, fmt="packed")).json()["ok"]


def test_a_self_signed_certificate_with_the_same_name_but_another_key_is_refused(client, member, member_org, clock,
                                                                                 settings):
    from tests.support.webauthn_fakes import SelfSignedBatch

    settings.MFAGATE_WEBAUTHN_EXTRA_ROOT_CERTS = [SelfSignedBatch().pem]
    _restrict(member_org, CHROMIUM_AAGUID)
    client.force_login(member)
    fake = FakeAuthenticator(authority=SelfSignedBatch())
    _refused(_verify(client, fake.register(_options(client), origin=ORIGIN, fmt="packed")), "cannot be trusted")
    assert not Authenticator.objects.exists()
