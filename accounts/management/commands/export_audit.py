"""``manage.py export_audit``: the audit log for a SIEM — one JSON object per line (or CSV), in
time order, streamed from the database (``.iterator()``: a million events never sit in memory).

Every line has the same keys, in this order: ``id``, ``at`` (ISO 8601, UTC, ``Z``), ``actor``
(who acted, as recorded: an e-mail address or the command that acted), ``action``,
``object_type``, ``object_id``, ``object_label``, ``subject_user`` (the e-mail address of the
user the event concerns, or null), ``ip_address``, ``before``, ``after``.

Exit status 0 with the events written (none is not an error), 1 with one line saying what was
wrong — a bad ``--since``, an unknown ``--user``, an ``--output`` that cannot be written — and
nothing written. A file given with ``--output`` is replaced only once the export is complete.
"""

from __future__ import annotations

import csv
import getpass
import datetime as dt
import json
import os
import re
import tempfile

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q

from accounts.audit import audit_record
from accounts.models import AuditEvent, User

KEYS = ("id", "at", "actor", "action", "object_type", "object_id", "object_label", "subject_user", "ip_address",
        "before", "after")
CHUNK = 1_000  # rows fetched at a time (a server-side cursor on PostgreSQL)
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
EXAMPLE = "e.g. 2026-12-01, 2026-12-01T13:00:00Z or 2026-12-01T14:00:00+01:00"
#: A CSV cell a spreadsheet would run as a formula (OWASP "CSV injection") gets a leading "'".
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def parse_when(option: str, text: str) -> dt.datetime:
    """An ISO 8601 date (midnight UTC) or date-time (UTC when it names no offset)."""
    if len(text) > 64 or CONTROL.search(text):
        raise CommandError(f"{option}: not an ISO 8601 date or date-time ({EXAMPLE})")
    text = text.strip()
    try:
        if DATE.fullmatch(text):
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tzinfo=dt.timezone.utc)
        when = dt.datetime.fromisoformat(text)
        if when.tzinfo is None:
            return when.replace(tzinfo=dt.timezone.utc)
        return when.astimezone(dt.timezone.utc)
    except (ValueError, OverflowError):
        raise CommandError(f"{option}: {text!r} is not an ISO 8601 date or date-time ({EXAMPLE})") from None


def _at(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


class Command(BaseCommand):
    help = "Export the audit log as JSON Lines (one event per line) or CSV, oldest first, for a SIEM."

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True,
                            help=f"events at or after this ISO 8601 date or date-time, UTC unless it says ({EXAMPLE})")
        parser.add_argument("--until", help="events before this date or date-time (default: now)")
        parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="jsonl (default) or csv")
        parser.add_argument("--action", action="append", default=[], metavar="ACTION",
                            help="an action (mfa.verification_failed) or a family (mfa: every mfa.* action); "
                                 "repeat for several")
        parser.add_argument("--user", metavar="EMAIL", help="only events this user did or that concern them")
        parser.add_argument("--output", metavar="FILE", help="write to FILE (replaced once complete), not stdout")

    def handle(self, *args, **opts):
        events = self._events(opts)
        write = self._jsonl if opts["format"] == "jsonl" else self._csv
        if not opts["output"]:
            count = write(events, _Lines(self.stdout))
        else:
            count = self._to_file(opts["output"], events, write)
        self._record_the_export(opts, count)
        self.stderr.write(f"exported {count} audit event{'s' if count != 1 else ''}")

    @staticmethod
    def _record_the_export(opts, count: int) -> None:
        """Who read the log is itself an event (``audit.exported``): written after the export, so it
        is the first line of the next one, never of this one."""
        try:
            os_user = getpass.getuser()
        except Exception:  # no login name (a container user without a passwd entry)
            os_user = "unknown"
        with transaction.atomic():
            audit_record(actor=f"system (manage.py export_audit, OS user {os_user})", action="audit.exported",
                         object_type="accounts.auditevent", object_label="Audit log",
                         after={"events": count, "format": opts["format"], "since": opts["since"],
                                "until": opts["until"], "action": opts["action"] or [], "user": opts["user"],
                                "output": opts["output"] or "stdout"})

    # ---------------------------------------------------------------------------- the query
    def _events(self, opts):
        since = parse_when("--since", opts["since"])
        rows = AuditEvent.objects.filter(at__gte=since)
        if opts["until"] is not None:
            until = parse_when("--until", opts["until"])
            if until <= since:
                raise CommandError(f"--until ({_at(until)}) must be after --since ({_at(since)})")
            rows = rows.filter(at__lt=until)
        if opts["action"]:
            match = Q()
            for action in opts["action"]:
                if not ACTION.fullmatch(action) or len(action) > 64:
                    raise CommandError(f"--action: {action[:80]!r} is not an action (mfa.verification_failed) "
                                       "or a family of them (mfa)")
                match |= Q(action=action) if "." in action else Q(action__startswith=f"{action}.")
            rows = rows.filter(match)
        if opts["user"] is not None:
            email = opts["user"].strip()
            looks_valid = 0 < len(email) <= 254 and not CONTROL.search(email)  # PostgreSQL refuses NUL
            user = User.objects.filter(email__iexact=email).first() if looks_valid else None
            if user is None:
                raise CommandError(f"--user: no user with email {email[:254]!r}")
            rows = rows.filter(Q(subject_user=user) | Q(actor=user))
        return (rows.order_by("at", "id")
                .values_list("id", "at", "actor_label", "action", "object_type", "object_id", "object_label",
                             "subject_user__email", "ip_address", "before", "after")
                .iterator(chunk_size=CHUNK))

    # ------------------------------------------------------------------------------ writing
    @staticmethod
    def _records(events):
        for row in events:
            record = dict(zip(KEYS, row))
            record["at"] = _at(record["at"])
            yield record

    def _jsonl(self, events, out) -> int:
        count = 0
        for record in self._records(events):
            # ASCII only: no raw line or paragraph separator (U+2028) can split a line.
            out.write(json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n")
            count += 1
        return count

    def _csv(self, events, out) -> int:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(KEYS)
        count = 0
        for record in self._records(events):
            writer.writerow([_cell(record[key]) for key in KEYS])
            count += 1
        return count

    def _to_file(self, path: str, events, write) -> int:
        target = os.path.abspath(path)
        if os.path.isdir(target):
            raise CommandError(f"--output: {path!r} is a directory")
        try:
            handle, partial = tempfile.mkstemp(prefix=".export_audit-", dir=os.path.dirname(target))
        except OSError as exc:
            raise CommandError(f"--output: cannot write in {os.path.dirname(target)!r}: {exc.strerror}") from None
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
                count = write(events, _Lines(file))
            os.replace(partial, target)
        except OSError as exc:
            raise CommandError(f"--output: cannot write {path!r}: {exc.strerror}") from None
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        return count


class _Lines:
    """A text file or the command's stdout, written to as given (no added line endings)."""

    def __init__(self, out):
        self.out = out

    def write(self, text: str) -> None:
        if hasattr(self.out, "style_func"):  # Django's OutputWrapper would add a line ending
            self.out.write(text, ending="")
        else:
            self.out.write(text)
