"""The in-process table of applications: path prefix → application, and name → application.

Loaded from the database once per configuration generation (see :mod:`.revocation`); every
request compares the generation and reloads only when it changed. The table also carries each
application's ``config_version``, which app sessions are checked against on the hot path.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from mfa_policies.durations import parse_duration
from mfa_policies.models import Application

#: Paths the access middleware never gates (spec §3.2.4): the launcher, enrollment and step-up,
#: sign-in, the MFA challenge, static files and well-known documents.
NEVER_GATED_EXACT = ("/", "/AddMfaDevice")
# /client/v4/ is the REST API: bearer tokens, not browser sessions, guard it.
NEVER_GATED_PREFIXES = ("/AddMfaDevice/", "/account/", "/accounts/", "/mfa/", "/static/", "/.well-known/",
                        "/client/v4/")


def never_gated(path: str) -> bool:
    return path in NEVER_GATED_EXACT or path.startswith(NEVER_GATED_PREFIXES)


@dataclass(frozen=True)
class AppEntry:
    id: int
    name: str
    organization_id: int
    organization_name: str
    config_version: int
    session_seconds: int
    path_prefixes: tuple[str, ...]


@dataclass(frozen=True)
class AppTable:
    generation: int
    apps: dict[int, AppEntry]
    prefixes: tuple[tuple[str, int], ...]  # longest first

    def match(self, path: str) -> AppEntry | None:
        """The application covering ``path`` by longest prefix, or ``None``."""
        for prefix, app_id in self.prefixes:
            if path.startswith(prefix):
                return self.apps[app_id]
        return None

    def by_name(self, name: str, org: str | None = None) -> AppEntry | None:
        found = [a for a in self.apps.values() if a.name == name and (org is None or a.organization_name == org)]
        if len(found) > 1:
            raise LookupError(f"more than one application is named “{name}”; pass org=")
        return found[0] if found else None


def load_table(generation: int) -> AppTable:
    """Read every application from the database (one query)."""

    apps: dict[int, AppEntry] = {}
    prefixes: list[tuple[str, int]] = []
    rows = Application.objects.select_related("organization").only(
        "id", "name", "organization__id", "organization__name", "config_version", "session_duration", "path_prefixes",
    )
    for app in rows:
        try:
            seconds = int(parse_duration(app.session_duration).total_seconds())
        except ValueError:
            seconds = 0  # an unreadable duration grants nothing lasting: every request re-runs the flow
        entry = AppEntry(
            id=app.pk, name=app.name, organization_id=app.organization_id,
            organization_name=app.organization.name, config_version=app.config_version,
            session_seconds=seconds, path_prefixes=tuple(p for p in app.path_prefixes or () if isinstance(p, str) and p),
        )
        apps[app.pk] = entry
        prefixes.extend((p, app.pk) for p in entry.path_prefixes)
    prefixes.sort(key=lambda item: (-len(item[0]), item[0], item[1]))
    return AppTable(generation=generation, apps=apps, prefixes=tuple(prefixes))


_lock = threading.Lock()
_table: AppTable | None = None


def table_for(generation: int) -> AppTable:
    """The table for ``generation``, reloading when this process holds another one."""
    global _table
    current = _table
    if current is not None and current.generation == generation:
        return current
    with _lock:
        if _table is None or _table.generation != generation:
            _table = load_table(generation)
        return _table


def latest() -> AppTable | None:
    """The table this process holds now, possibly stale (callers confirm the generation)."""
    return _table


def reset() -> None:
    """Forget the table (tests)."""
    global _table
    with _lock:
        _table = None
