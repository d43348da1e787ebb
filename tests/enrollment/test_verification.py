"""enrollment.verification: the API the MFA challenge page and step-up call."""

from __future__ import annotations

import json

import pytest

from enrollment import throttle
from enrollment.models import Authenticator, VerificationThrottle
from enrollment.verification import (
    VerificationError,
    totp_verify,
    webauthn_assertion_options,
    webauthn_assertion_verify,
)
from mfa_policies import constants as c
from tests.support.authenticators import ORIGIN, code_at, enroll_totp, enroll_webauthn, session_request
from tests.support.webauthn_fakes import FakeAuthenticator

pytestmark = pytest.mark.django_db
KEYS = [c.SECURITY_KEY, c.BIOMETRICS]


@pytest.fixture(autouse=True)
def _webauthn_settings(settings):
    settings.MFAGATE_WEBAUTHN_RP_ID = "localhost"
    settings.MFAGATE_WEBAUTHN_ORIGINS = [ORIGIN]


# ------------------------------------------------------------------------------------- TOTP
def test_a_current_totp_code_verifies_and_records_last_use(make_user, clock):
    user = make_user()
    authenticator, otp = enroll_totp(user)
    result = totp_verify(request=session_request(user), user=user, code=code_at(otp))
    assert result.pk == authenticator.pk
    assert Authenticator.objects.get(pk=authenticator.pk).last_used_at == clock.now


def test_a_totp_code_is_accepted_once_even_later_in_its_window(make_user, clock):
    user = make_user()
    _, otp = enroll_totp(user)
    code = code_at(otp)
    totp_verify(request=session_request(user), user=user, code=code)
    for seconds in (5, 30):  # +5 s and +35 s after the first acceptance (step T, then T+1)
        clock.advance(seconds=seconds)
        with pytest.raises(VerificationError) as refused:
            totp_verify(request=session_request(user), user=user, code=code)
        assert refused.value.code == "replayed"


def test_the_code_of_the_previous_step_is_refused_after_a_success(make_user, clock):
    user = make_user()
    _, otp = enroll_totp(user)
    previous = code_at(otp, -30)
    totp_verify(request=session_request(user), user=user, code=code_at(otp))
    with pytest.raises(VerificationError) as refused:
        totp_verify(request=session_request(user), user=user, code=previous)
    assert refused.value.code == "replayed"


@pytest.mark.parametrize("offset", [-60, 60, -90, 90])
def test_codes_two_steps_away_are_refused(make_user, clock, offset):
    user = make_user()
    _, otp = enroll_totp(user)
    clock.set(clock.now.replace(second=15))  # mid-step, so ±60 s is exactly two steps
    with pytest.raises(VerificationError) as refused:
        totp_verify(request=session_request(user), user=user, code=code_at(otp, offset))
    assert refused.value.code == "invalid_code"


@pytest.mark.parametrize("offset", [-30, 30])
def test_codes_one_step_away_are_accepted(make_user, clock, offset):
    user = make_user()
    _, otp = enroll_totp(user)
    clock.set(clock.now.replace(second=15))
    totp_verify(request=session_request(user), user=user, code=code_at(otp, offset))


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", None, 123456])
def test_malformed_codes_are_refused_as_invalid(make_user, clock, code):
    user = make_user()
    enroll_totp(user)
    with pytest.raises(VerificationError) as refused:
        totp_verify(request=session_request(user), user=user, code=code)
    assert refused.value.code == "invalid_code"


def test_totp_without_an_enrolled_app_says_no_device(make_user, clock):
    user = make_user()
    with pytest.raises(VerificationError) as refused:
        totp_verify(request=session_request(user), user=user, code="123456")
    assert refused.value.code == "no_device"


def test_rfc6238_vector_via_the_server_clock(make_user, clock):
    """RFC 6238 Appendix B, SHA1, 6 digits: T=59 → 287082, T=1111111109 → 081804 (leading zero)."""
    import datetime as dt

    from enrollment import totp

    key_hex = b"12345678901234567890".hex()
    for unix, expected in [(59, "287082"), (1111111109, "081804"), (2000000000, "279037")]:
        clock.set(dt.datetime.fromtimestamp(unix, tz=dt.timezone.utc))
        assert totp.match_code(key_hex=key_hex, code=expected) is not None
        if expected.startswith("0"):
            assert totp.match_code(key_hex=key_hex, code=expected.lstrip("0")) is None


# ------------------------------------------------------------------------------- throttling
def test_failures_grow_delays_and_a_success_resets(make_user, clock):
    user = make_user()
    _, otp = enroll_totp(user)
    for _ in range(throttle.FREE_ATTEMPTS):
        with pytest.raises(VerificationError):
            totp_verify(request=session_request(user), user=user, code="000000" if code_at(otp) != "000000" else "111111")
    with pytest.raises(VerificationError) as refused:
        totp_verify(request=session_request(user), user=user, code=code_at(otp))
    assert refused.value.code == "throttled"
    clock.advance(seconds=2)
    totp_verify(request=session_request(user), user=user, code=code_at(otp))
    assert VerificationThrottle.objects.get(user=user).consecutive_failures == 0


def test_hundred_failures_across_authenticators_lock_the_account_until_the_cool_down(make_user, clock):
    user = make_user()
    _, otp = enroll_totp(user)
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    for i in range(throttle.HARD_LOCK_AT):
        clock.advance(minutes=16)  # past any growing delay
        if i % 2:
            with pytest.raises(VerificationError):
                totp_verify(request=session_request(user), user=user, code="999999" if code_at(otp) != "999999" else "888888")
        else:
            request = session_request(user)
            options = webauthn_assertion_options(request=request, user=user, kinds=KEYS, purpose="mfa")
            with pytest.raises(VerificationError):
                webauthn_assertion_verify(request=request, user=user, kinds=KEYS, purpose="mfa",
                                          credential=fake.assert_(options, origin="http://evil.test"))
    clock.advance(minutes=16)
    with pytest.raises(VerificationError) as refused:
        totp_verify(request=session_request(user), user=user, code=code_at(otp))
    assert refused.value.code == "throttled"
    assert "locked" in refused.value.message
    clock.advance(hours=1)
    totp_verify(request=session_request(user), user=user, code=code_at(otp))


def test_throttling_is_per_account_not_per_address(make_user, clock):
    alice, bob = make_user(), make_user()
    _, alice_otp = enroll_totp(alice)
    _, bob_otp = enroll_totp(bob)
    for i in range(throttle.FREE_ATTEMPTS):
        with pytest.raises(VerificationError):
            totp_verify(request=session_request(alice, remote_addr=f"10.0.0.{i}"), user=alice, code="000000" if code_at(alice_otp) != "000000" else "111111")
    with pytest.raises(VerificationError) as refused:
        totp_verify(request=session_request(alice, remote_addr="192.168.1.1"), user=alice, code=code_at(alice_otp))
    assert refused.value.code == "throttled"
    totp_verify(request=session_request(bob), user=bob, code=code_at(bob_otp))


# ---------------------------------------------------------------------------------- WebAuthn
def test_a_security_key_assertion_verifies_and_moves_the_sign_count(make_user, clock):
    user = make_user()
    fake = FakeAuthenticator()
    authenticator = enroll_webauthn(user, fake)
    request = session_request(user)
    options = webauthn_assertion_options(request=request, user=user, kinds=KEYS, purpose="mfa")
    assert [cred["id"] for cred in options["allowCredentials"]] == [fake.id]
    result = webauthn_assertion_verify(request=request, user=user, kinds=KEYS, purpose="mfa",
                                       credential=json.dumps(fake.assert_(options, origin=ORIGIN)))
    assert result.pk == authenticator.pk
    stored = Authenticator.objects.get(pk=authenticator.pk)
    assert stored.sign_count == 2 and stored.last_used_at == clock.now


def test_the_same_assertion_posted_twice_fails_the_second_time(make_user, clock):
    user = make_user()
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    request = session_request(user)
    options = webauthn_assertion_options(request=request, user=user, kinds=KEYS, purpose="mfa")
    response = fake.assert_(options, origin=ORIGIN)
    webauthn_assertion_verify(request=request, user=user, kinds=KEYS, purpose="mfa", credential=response)
    with pytest.raises(VerificationError) as refused:
        webauthn_assertion_verify(request=request, user=user, kinds=KEYS, purpose="mfa", credential=response)
    assert refused.value.reason == "webauthn_no_challenge"


def _assert_refused(user, fake, reason, kinds=KEYS, **changes):
    request = session_request(user)
    options = webauthn_assertion_options(request=request, user=user, kinds=kinds, purpose="mfa")
    before = list(Authenticator.objects.values_list("sign_count", "last_used_at"))
    with pytest.raises(VerificationError) as refused:
        webauthn_assertion_verify(request=request, user=user, kinds=kinds, purpose="mfa",
                                  credential=fake.assert_(options, **{"origin": ORIGIN, **changes}))
    assert refused.value.code == "webauthn_failed"
    assert refused.value.reason == reason
    assert list(Authenticator.objects.values_list("sign_count", "last_used_at")) == before


def test_a_wrong_origin_is_refused(make_user, clock):
    user = make_user()
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    _assert_refused(user, fake, "webauthn_origin", origin="https://evil.example")


def test_a_wrong_rp_id_is_refused(make_user, clock):
    user = make_user()
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    _assert_refused(user, fake, "webauthn_rp_id", rp_id="evil.example")


def test_a_wrong_challenge_is_refused(make_user, clock):
    user = make_user()
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    _assert_refused(user, fake, "webauthn_no_challenge", challenge="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")


def test_a_sign_count_that_goes_backwards_is_refused(make_user, clock):
    user = make_user()
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    _assert_refused(user, fake, "webauthn_sign_count", sign_count=1)


def test_backup_eligibility_changed_since_registration_is_refused(make_user, clock):
    user = make_user()
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    _assert_refused(user, fake, "webauthn_backup_changed", be=True)


def test_biometrics_without_user_verification_are_refused(make_user, clock):
    user = make_user()
    fake = FakeAuthenticator(attachment="platform", transports=["internal"])
    enroll_webauthn(user, fake, kind=c.BIOMETRICS)
    _assert_refused(user, fake, "webauthn_uv_required", uv=False)


def test_a_security_key_without_user_verification_is_accepted(make_user, clock):
    user = make_user()
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    request = session_request(user)
    options = webauthn_assertion_options(request=request, user=user, kinds=KEYS, purpose="mfa")
    webauthn_assertion_verify(request=request, user=user, kinds=KEYS, purpose="mfa",
                              credential=fake.assert_(options, origin=ORIGIN, uv=False))


def test_another_users_credential_is_refused(make_user, clock):
    alice, mallory = make_user(), make_user()
    enroll_webauthn(alice, FakeAuthenticator())
    mallory_key = FakeAuthenticator()
    enroll_webauthn(mallory, mallory_key)
    # Mallory answers Alice's challenge with her own (valid) credential.
    _assert_refused(alice, mallory_key, "webauthn_unknown_credential")


def test_a_user_handle_of_another_user_is_refused(make_user, clock):
    user = make_user()
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    _assert_refused(user, fake, "webauthn_user_handle", user_handle=b"someone-else-entirely")


def test_a_credential_of_a_kind_not_asked_for_is_refused(make_user, clock):
    user = make_user()
    key = FakeAuthenticator()
    enroll_webauthn(user, key)
    bio = FakeAuthenticator(attachment="platform", transports=["internal"])
    enroll_webauthn(user, bio, kind=c.BIOMETRICS)
    _assert_refused(user, key, "webauthn_unknown_credential", kinds=[c.BIOMETRICS])


@pytest.mark.parametrize("garbage", ["", "not json", "[]", "{}", '{"id": 1}', '{"id": "x", "response": 3}',
                                     '{"id": "x", "rawId": "x", "type": "public-key", "response": {}}'])
def test_malformed_assertions_are_refused(make_user, clock, garbage):
    user = make_user()
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    request = session_request(user)
    webauthn_assertion_options(request=request, user=user, kinds=KEYS, purpose="mfa")
    with pytest.raises(VerificationError) as refused:
        webauthn_assertion_verify(request=request, user=user, kinds=KEYS, purpose="mfa", credential=garbage)
    assert refused.value.code == "webauthn_failed"


def test_an_expired_challenge_is_refused(make_user, clock):
    user = make_user()
    fake = FakeAuthenticator()
    enroll_webauthn(user, fake)
    request = session_request(user)
    options = webauthn_assertion_options(request=request, user=user, kinds=KEYS, purpose="mfa")
    clock.advance(minutes=5, seconds=1)
    with pytest.raises(VerificationError) as refused:
        webauthn_assertion_verify(request=request, user=user, kinds=KEYS, purpose="mfa",
                                  credential=fake.assert_(options, origin=ORIGIN))
    assert refused.value.reason == "webauthn_no_challenge"


def test_assertion_options_without_webauthn_devices_say_no_device(make_user, clock):
    user = make_user()
    enroll_totp(user)
    with pytest.raises(VerificationError) as refused:
        webauthn_assertion_options(request=session_request(user), user=user, kinds=KEYS, purpose="mfa")
    assert refused.value.code == "no_device"
