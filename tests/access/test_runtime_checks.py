"""Start-up checks of the runtime: a missing or misplaced access middleware and a JWT key of the
wrong type are refused before the first request."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings as django_settings
from django.core.management import call_command

from mfa_policies.access.checks import ACCESS_MIDDLEWARE, access_middleware_installed_in_order, jwt_key_is_ec_p256

AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"


def _pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_the_project_settings_pass_every_check(settings):
    settings.DEBUG = True  # as `make run` has them (the test runner turns DEBUG off)
    call_command("check", fail_level="ERROR")


def test_the_access_middleware_missing_is_refused(settings):
    settings.MIDDLEWARE = [m for m in django_settings.MIDDLEWARE if m != ACCESS_MIDDLEWARE]
    errors = access_middleware_installed_in_order(None)
    assert [e.id for e in errors] == ["mfagate.E002"]
    assert "no application's policies are enforced" in errors[0].msg


def test_the_access_middleware_before_authentication_is_refused(settings):
    order = [m for m in django_settings.MIDDLEWARE if m != ACCESS_MIDDLEWARE]
    order.insert(order.index(AUTH), ACCESS_MIDDLEWARE)
    settings.MIDDLEWARE = order
    errors = access_middleware_installed_in_order(None)
    assert [e.id for e in errors] == ["mfagate.E003", "mfagate.E003"]  # authentication and allauth's come after
    assert AUTH in errors[0].msg and "comes after it" in errors[0].msg


def test_the_access_middleware_in_place_passes(settings):
    assert access_middleware_installed_in_order(None) == []


def test_an_rsa_jwt_key_is_refused(settings):
    settings.MFAGATE_JWT_PRIVATE_KEY = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    errors = jwt_key_is_ec_p256(None)
    assert [e.id for e in errors] == ["mfagate.E004"]
    assert "EC P-256" in errors[0].msg


def test_an_ec_key_on_another_curve_is_refused(settings):
    settings.MFAGATE_JWT_PRIVATE_KEY = _pem(ec.generate_private_key(ec.SECP384R1()))
    assert [e.id for e in jwt_key_is_ec_p256(None)] == ["mfagate.E004"]


def test_an_unreadable_jwt_key_is_refused(settings):
    settings.MFAGATE_JWT_PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"
    errors = jwt_key_is_ec_p256(None)
    assert [e.id for e in errors] == ["mfagate.E004"] and "not a readable" in errors[0].msg


def test_a_p256_key_or_none_passes(settings):
    settings.MFAGATE_JWT_PRIVATE_KEY = _pem(ec.generate_private_key(ec.SECP256R1()))
    assert jwt_key_is_ec_p256(None) == []
    settings.MFAGATE_JWT_PRIVATE_KEY = ""
    assert jwt_key_is_ec_p256(None) == []
