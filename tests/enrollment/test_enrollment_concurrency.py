"""Concurrency proofs that need real row locks (SECURITY rows 2 and 7): PostgreSQL only."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from enrollment import flows, totp
from enrollment.messages import EnrollmentError
from enrollment.models import Authenticator
from enrollment.verification import VerificationError, totp_verify
from mfa_policies import constants as c
from tests.support.authenticators import code_at, enroll_totp, session_request

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL row locks (run with DATABASE_URL=postgres://...; .ci/run does)"),
]


def _race(target, n=2):
    barrier = threading.Barrier(n)
    results = []

    def run():
        barrier.wait()
        try:
            results.append(("ok", target()))
        except (VerificationError, EnrollmentError) as exc:
            results.append(("refused", exc.code))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_threads_posting_the_same_code_exactly_one_succeeds(make_user, clock):
    user = make_user()
    _, otp = enroll_totp(user)
    code = code_at(otp)
    results = _race(lambda: totp_verify(request=session_request(user), user=user, code=code))
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    assert ("refused", "replayed") in results


def test_two_threads_enrolling_totp_leave_one_row(make_user, make_org, make_member, clock):
    user = make_user()
    make_member(user, make_org(allowed_authenticators=[c.TOTP]))
    keys = [totp.new_secret(), totp.new_secret()]
    import pyotp

    def enroll():
        key = keys.pop()
        code = pyotp.TOTP(totp.base32_secret(key)).at(clock.now.timestamp())
        return flows.totp_add(request=session_request(user), acting_user=user, key_hex=key, code=code)

    results = _race(enroll)
    assert Authenticator.objects.filter(user=user, kind=c.TOTP).count() == 1
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    assert ("refused", "totp_exists") in results
