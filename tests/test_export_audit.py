"""``manage.py export_audit``: the audit log for a SIEM — every line parsed back, hostile
arguments answered with one clear line (exit status 1, never a traceback), streamed in bounded
memory."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from accounts.audit import audit_record
from accounts.management.commands.export_audit import KEYS
from accounts.models import AuditEvent
from enrollment import step_up, throttle
from enrollment.verification import VerificationError, totp_verify
from tests.support.authenticators import code_at, enroll_totp, session_request

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
# Every character a stored label can hold that could break a line-based reader (PostgreSQL stores no NUL).
HOSTILE_LABEL = 'Line one\nline two\r\u2028\u2029 "quoted", =cmd|\' /C calc\'!A0 \x1b[31m\x7f ✓ 𝄞'


def export(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_audit", *args, stdout=out, stderr=err)
    return out.getvalue()


def lines(text: str) -> list[dict]:
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.split("\n")[:-1]]


def _security_events(user, clock):
    """Real events through the services: two wrong codes, a success, a step-up, a delay."""
    _, otp = enroll_totp(user, name="Phone")
    wrong = "000000" if code_at(otp) != "000000" else "111111"
    for _ in range(2):
        with pytest.raises(VerificationError):
            totp_verify(request=session_request(user, remote_addr="203.0.113.5"), user=user, code=wrong)
    authenticator = totp_verify(request=session_request(user, remote_addr="2001:db8::1"), user=user, code=code_at(otp))
    request = session_request(user, remote_addr="2001:db8::1")
    step_up.open_window(request, authenticator=authenticator)
    for _ in range(throttle.FREE_ATTEMPTS):
        throttle.record_failure(user)


# ------------------------------------------------------------------------- SIEM round trip
def test_every_line_parses_back_to_the_stored_event_with_the_stable_keys(make_user, clock, django_assert_max_num_queries):
    user = make_user("siem@example.test")
    _security_events(user, clock)
    with transaction.atomic():
        audit_record(actor="system (manage.py test)", action="user.update", object_type="accounts.user",
                     object_id=str(user.pk), object_label=HOSTILE_LABEL, subject_user=user,
                     before={"name": HOSTILE_LABEL}, after={"nested": {"list": [1, None, True, "\u2028"]}})
    # Streamed: one read, whatever the size (SQLite chunks it), then the export's own audit row
    # (savepoint, insert, release).
    with django_assert_max_num_queries(5):
        text = export("--since", "2026-11-01")
    assert text.isascii()  # no raw U+2028 or control character can split a line for a log shipper
    records = lines(text)
    assert len(text.splitlines()) == len(records)  # even a reader splitting on U+2028 sees one event a line
    stored = {e.id: e for e in AuditEvent.objects.exclude(action="audit.exported")}
    assert sorted(r["id"] for r in records) == sorted(stored)
    actions = [r["action"] for r in records]
    assert actions.count("mfa.verification_failed") == 2
    assert {"mfa.verified", "step_up.opened", "throttle.delayed", "user.update"} <= set(actions)
    for record in records:
        assert tuple(record) == KEYS
        event = stored[record["id"]]
        at = dt.datetime.fromisoformat(record["at"])
        assert record["at"].endswith("Z") and at == event.at and at.utcoffset() == dt.timedelta(0)
        assert record["actor"] == event.actor_label and record["action"] == event.action
        assert (record["object_type"], record["object_id"], record["object_label"]) == (
            event.object_type, event.object_id, event.object_label)
        assert record["subject_user"] == (event.subject_user.email if event.subject_user else None)
        assert record["ip_address"] == event.ip_address
        assert (record["before"], record["after"]) == (event.before, event.after)
    hostile = next(r for r in records if r["object_label"] == HOSTILE_LABEL)
    assert hostile["actor"] == "system (manage.py test)" and hostile["before"] == {"name": HOSTILE_LABEL}
    failed = next(r for r in records if r["action"] == "mfa.verification_failed")
    assert failed["ip_address"] == "203.0.113.5" and failed["subject_user"] == "siem@example.test"
    assert failed["after"]["reason"] == "totp_invalid_code" and failed["after"]["purpose"] == "challenge"
    assert [r["at"] for r in records] == sorted(r["at"] for r in records)  # oldest first


def test_csv_has_a_header_and_parses_back_with_formulas_defused(make_user, clock):
    user = make_user()
    with transaction.atomic():
        audit_record(actor=user, action="authenticator.added", object_type="enrollment.authenticator",
                     object_id="1", object_label="=HYPERLINK(\"http://evil.example\")", subject_user=user,
                     after={"name": "a,b\n\"c\""})
        audit_record(actor=user, action="mfa.verified", object_type="enrollment.authenticator", object_id="2",
                     object_label=HOSTILE_LABEL, subject_user=user)
    rows = list(csv.DictReader(io.StringIO(export("--since", "2026-01-01", "--format", "csv"), newline="")))
    assert tuple(rows[0]) == KEYS and len(rows) == 2
    formula, hostile = rows
    assert formula["object_label"] == "'=HYPERLINK(\"http://evil.example\")"  # a spreadsheet shows, never runs it
    assert json.loads(formula["after"]) == {"name": "a,b\n\"c\""}
    assert hostile["object_label"] == HOSTILE_LABEL and hostile["before"] == ""
    assert formula["subject_user"] == user.email and formula["actor"] == user.email


# ------------------------------------------------------------------------------- selecting
def _event(at, action="mfa.verified", subject=None, actor=None):
    with transaction.atomic():
        event = audit_record(actor=actor, action=action, object_type="t", object_id="1", subject_user=subject)
    AuditEvent.objects.filter(pk=event.pk).update(at=at)
    return event.pk


def test_since_is_inclusive_until_exclusive_and_offsets_are_honoured(clock):
    base = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)
    ids = [_event(base + dt.timedelta(hours=h)) for h in range(4)]
    assert [r["id"] for r in lines(export("--since", "2026-12-01T12:00:00Z"))] == ids
    assert [r["id"] for r in lines(export("--since", "2026-12-01T13:00:00+01:00"))] == ids  # = 12:00 UTC
    assert [r["id"] for r in lines(export("--since", "2026-12-01T13:00", "--until", "2026-12-01T15:00"))] == ids[1:3]
    assert [r["id"] for r in lines(export("--since", "2026-12-01", "--until", "2026-12-02"))] == ids
    assert lines(export("--since", "2026-12-02")) == []


def test_action_takes_actions_and_families(clock):
    at = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    for action in ("mfa.verified", "mfa.verification_failed", "throttle.delayed", "user.update", "mfa_x.y"):
        _event(at, action)
    assert {r["action"] for r in lines(export("--since", "2026-11-30", "--action", "mfa"))} == {
        "mfa.verified", "mfa.verification_failed"}
    assert {r["action"] for r in lines(export("--since", "2026-11-30", "--action", "throttle.delayed",
                                              "--action", "user"))} == {"throttle.delayed", "user.update"}


def test_user_selects_what_they_did_and_what_concerns_them(make_user, clock):
    alice, bob = make_user("alice@example.test"), make_user("bob@example.test")
    at = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    concerns, did, other = _event(at, subject=alice), _event(at, actor=alice, subject=bob), _event(at, subject=bob)
    assert sorted(r["id"] for r in lines(export("--since", "2026-11-30", "--user", "ALICE@example.test"))) == sorted(
        [concerns, did])
    assert other not in [r["id"] for r in lines(export("--since", "2026-11-30", "--user", "alice@example.test"))]


# ---------------------------------------------------------------------- hostile arguments
@pytest.mark.parametrize("args, words", [
    (["--since", "yesterday"], "--since: 'yesterday' is not an ISO 8601 date or date-time"),
    (["--since", ""], "--since: '' is not an ISO 8601"),
    (["--since", "2026-13-01"], "--since: '2026-13-01' is not"),
    (["--since", "2026-02-30"], "--since: '2026-02-30' is not"),
    (["--since", "2026-12-01T25:00"], "is not an ISO 8601"),
    (["--since", "0001-01-01T00:00:00+05:00"], "is not an ISO 8601"),  # before year 1 in UTC
    (["--since", "9999-12-31T23:59:59-23:59"], "is not an ISO 8601"),  # after year 9999 in UTC
    (["--since", "2026-12-01\x00"], "--since: not an ISO 8601"),
    (["--since", "2" * 5000], "--since: not an ISO 8601"),
    (["--since", "2026-12-01", "--until", "2026-11-01"], "--until (2026-11-01T00:00:00.000000Z) must be after --since"),
    (["--since", "2026-12-01", "--until", "2026-12-01"], "must be after --since"),
    (["--since", "2026-12-01", "--until", "soon"], "--until: 'soon' is not"),
    (["--since", "2026-12-01", "--action", "MFA"], "--action: 'MFA' is not an action"),
    (["--since", "2026-12-01", "--action", "mfa.*"], "--action: 'mfa.*' is not an action"),
    (["--since", "2026-12-01", "--action", "'; DROP TABLE accounts_auditevent; --"], "--action:"),
    (["--since", "2026-12-01", "--action", "a" * 65], "--action:"),
    (["--since", "2026-12-01", "--user", "nobody@example.test"], "--user: no user with email 'nobody@example.test'"),
    (["--since", "2026-12-01", "--user", ""], "--user: no user with email ''"),
    (["--since", "2026-12-01", "--user", "%"], "--user: no user with email '%'"),
    (["--since", "2026-12-01", "--user", "alice@example.test\x00"], "--user: no user with email 'alice@example.test\\x00'"),
    (["--since", "2026-12-01", "--user", "a" * 300], "--user: no user with email"),
    (["--since", "2026-12-01", "--format", "xml"], "invalid choice: 'xml'"),
    ([], "the following arguments are required: --since"),
])
def test_a_bad_argument_is_one_clear_error(make_user, args, words):
    make_user("percent%@example.test")
    with pytest.raises(CommandError) as refused:
        export(*args)
    assert words in str(refused.value)


def test_a_bad_output_path_is_a_clear_error_and_leaves_no_file(tmp_path):
    with pytest.raises(CommandError, match="--output: cannot write in .*No such file or directory"):
        export("--since", "2026-12-01", "--output", str(tmp_path / "missing" / "audit.jsonl"))
    with pytest.raises(CommandError, match="is a directory"):
        export("--since", "2026-12-01", "--output", str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_output_replaces_the_file_only_once_the_export_is_complete(tmp_path, clock):
    _event(dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc))
    target = tmp_path / "audit.jsonl"
    target.write_text("yesterday's export\n")
    with pytest.raises(CommandError):
        export("--since", "not a date", "--output", str(target))
    assert target.read_text() == "yesterday's export\n"
    assert export("--since", "2026-11-30", "--output", str(target)) == ""  # nothing on stdout
    assert len(lines(target.read_text())) == 1
    assert oct(target.stat().st_mode & 0o777) == "0o600"  # an audit export is for the operator's eyes
    assert [p.name for p in tmp_path.iterdir()] == ["audit.jsonl"]


@pytest.mark.parametrize("args, status, shown", [
    (["--since", "nope"], 1, "CommandError: --since: 'nope' is not an ISO 8601 date or date-time"),
    (["--since", "2026-12-01", "--format", "xml"], 2, "invalid choice: 'xml'"),
])
def test_from_the_shell_a_bad_argument_exits_non_zero_without_a_traceback(tmp_path, args, status, shown):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = subprocess.run([sys.executable, "manage.py", "export_audit", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == status
    assert shown in result.stderr and "Traceback" not in result.stderr and result.stdout == ""


# ---------------------------------------------------------------------------- streaming
def _bulk(n: int):
    at = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    AuditEvent.objects.bulk_create(
        [AuditEvent(at=at + dt.timedelta(seconds=i), actor_label="seed", action="mfa.verified", object_type="t",
                    object_id=str(i), object_label=f"Authenticator {i} " + "x" * 200, after={"i": i, "pad": "y" * 200})
         for i in range(n)], batch_size=2_000)


def _peak_exporting(tmp_path, n: int) -> int:
    AuditEvent.objects.all().delete()
    _bulk(n)
    tracemalloc.start()
    try:
        export("--since", "2026-11-30", "--output", str(tmp_path / f"{n}.jsonl"))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_export_streams_so_ten_times_the_rows_need_no_more_memory(tmp_path):
    """With .iterator() the rows in memory are one chunk's; a list of them all grows eightfold."""
    small = _peak_exporting(tmp_path, 1_000)
    large = _peak_exporting(tmp_path, 8_000)
    assert sum(1 for _ in open(tmp_path / "8000.jsonl")) == 8_000
    # Without .iterator() eight times the rows took 10.8 times the memory; streamed, it stays
    # within 2x alone and about 2x after the other tests of this module (what they leave behind in
    # the connection grows it a little), so the bound sits well between the two.
    assert large < 4 * small, (small, large)


def test_the_export_is_itself_recorded_after_the_events_it_wrote(clock):
    _event(dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc), "user.update")
    first = lines(export("--since", "2026-11-01", "--action", "user"))
    assert [r["action"] for r in first] == ["user.update"]  # not its own row
    row = AuditEvent.objects.get(action="audit.exported")
    assert row.actor_label.startswith("system (manage.py export_audit, OS user ")
    assert row.after == {"events": 1, "format": "jsonl", "since": "2026-11-01", "until": None, "action": ["user"],
                         "user": None, "output": "stdout"}
    assert [r["action"] for r in lines(export("--since", "2026-11-01", "--action", "audit"))] == ["audit.exported"]
