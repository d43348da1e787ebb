"""Two requests with the same recovery code: exactly one wins (issue 11 item 5). PostgreSQL only:
SQLite serialises writers, so it could not show a race."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from accounts.models import AuditEvent
from enrollment import recovery
from enrollment.messages import EnrollmentError
from enrollment.models import RecoveryCode
from tests.support.authenticators import enroll_totp, session_request, step_up_request

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL row locks (run with DATABASE_URL=postgres://...; .ci/run does)"),
]


def _race(target, n):
    barrier = threading.Barrier(n)
    results, lock = [], threading.Lock()

    def run():
        barrier.wait()
        try:
            outcome = ("ok", target())
        except EnrollmentError as exc:
            outcome = ("refused", exc.code)
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.mark.parametrize("n", [2, 6])
def test_requests_posting_the_same_code_exactly_one_wins(member, clock, n):
    enroll_totp(member)
    code = recovery.generate(request=step_up_request(member), acting_user=member)[0]
    results = _race(lambda: recovery.use(request=session_request(member), user=member, code=code), n)
    assert len(results) == n
    assert [r for r in results if r[0] == "ok"] == [("ok", 9)]
    assert sorted(r for r in results if r[0] == "refused") == [("refused", "recovery_code_used")] * (n - 1)
    assert recovery.remaining(member) == 9
    assert RecoveryCode.objects.filter(user=member, used_at__isnull=False).count() == 1
    assert AuditEvent.objects.filter(action="recovery_code.used").count() == 1
    assert AuditEvent.objects.filter(action="recovery_code.rejected").count() == n - 1


def test_two_generations_at_once_leave_one_set_of_ten(member, clock):
    enroll_totp(member)
    request = step_up_request(member)
    results = _race(lambda: recovery.generate(request=request, acting_user=member), 2)
    assert sorted(r[0] for r in results) == ["ok", "ok"]
    assert RecoveryCode.objects.filter(user=member).count() == 10
    # Exactly one of the two sets works: the later one replaced the earlier.
    working = 0
    for _, codes in results:
        try:
            recovery.use(request=session_request(member), user=member, code=codes[0])
            working += 1
        except EnrollmentError:
            pass
    assert working == 1
