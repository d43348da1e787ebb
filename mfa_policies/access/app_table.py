"""The in-process table of applications: path prefix → application, name → application, and each
application's configuration input for the login flow.

An :class:`AppTable` is an immutable snapshot of the database at one configuration generation
(:mod:`mfa_policies.generation`); :mod:`.mirror` decides when it may be trusted and replaces it —
wholly (:func:`load_table`) or one organization at a time (:meth:`AppTable.with_organizations`).

Matching is flat in the number of applications: prefixes live in a dict, and a path is looked up
at each of its ``/`` boundaries, longest first (a prefix that does not end with ``/`` — ``/demo/a``
— is looked up inside the segment after its last ``/``, only where such prefixes exist). The cost
grows with the path's length, never with the number of applications; the result is exactly the
longest ``startswith`` match (ties: the lowest application id).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterable

from mfa_policies import generation
from mfa_policies.durations import parse_duration
from mfa_policies.models import Application
from mfa_policies.selectors import ConfigurationInput

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


@functools.lru_cache(maxsize=256)
def _session_seconds(duration: str) -> int:
    try:
        return int(parse_duration(duration).total_seconds())
    except ValueError:
        return 0  # an unreadable duration grants nothing lasting: every request re-runs the flow


_FIELDS = ("id", "name", "organization_id", "organization__name", "config_version", "session_duration",
           "path_prefixes")


def _entries(rows) -> list[AppEntry]:
    return [
        AppEntry(id=pk, name=name, organization_id=org_id, organization_name=org_name, config_version=version,
                 session_seconds=_session_seconds(duration or ""),
                 path_prefixes=tuple(p for p in prefixes or () if isinstance(p, str) and p)
                 if isinstance(prefixes, list) else ())
        for pk, name, org_id, org_name, version, duration, prefixes in rows
    ]


def _rows(organization_ids: Iterable[int] | None = None):
    query = Application.objects.order_by()
    if organization_ids is not None:
        query = query.filter(organization_id__in=list(organization_ids))
    return query.values_list(*_FIELDS)


def _dir_of(prefix: str) -> str:
    return prefix[: prefix.rfind("/") + 1]


class AppTable:
    """One snapshot of the applications (read-only once built; ``inputs`` fills lazily)."""

    __slots__ = ("generation", "apps", "_prefixes", "_tail_dirs", "_by_name", "_by_org", "inputs")

    def __init__(self, generation: int, apps: dict[int, AppEntry], prefixes: dict[str, tuple[int, ...]],
                 tail_dirs: dict[str, int], by_name: dict[str, tuple[int, ...]], by_org: dict[int, tuple[int, ...]],
                 inputs: dict[int, ConfigurationInput]):
        self.generation = generation
        self.apps = apps
        self._prefixes = prefixes      # prefix → ids holding it, ascending (the first wins)
        self._tail_dirs = tail_dirs    # "/demo/" → how many prefixes like "/demo/a" it has
        self._by_name = by_name
        self._by_org = by_org
        #: application id → its configuration input (:func:`mfa_policies.selectors.configuration_input`),
        #: filled by the login flow; dropped with the application's organization on reload.
        self.inputs = inputs

    # -------------------------------------------------------------------------------- reads
    def match(self, path: str) -> AppEntry | None:
        """The application covering ``path`` by longest prefix, or ``None``. Flat in the number
        of applications (see the module docstring)."""
        prefixes, tail_dirs = self._prefixes, self._tail_dirs
        end = len(path)  # where the segment after the current boundary ends
        i = path.rfind("/")
        while i >= 0:
            head = path[: i + 1]
            if head in tail_dirs:  # prefixes ending inside the next segment: longest first
                for j in range(end, i + 1, -1):
                    holders = prefixes.get(path[:j])
                    if holders:
                        return self.apps[holders[0]]
            holders = prefixes.get(head)
            if holders:
                return self.apps[holders[0]]
            end = i
            i = path.rfind("/", 0, i)
        return None

    def by_name(self, name: str, org: str | None = None) -> AppEntry | None:
        found = [self.apps[i] for i in self._by_name.get(name, ())
                 if org is None or self.apps[i].organization_name == org]
        if len(found) > 1:
            raise LookupError(f"more than one application is named “{name}”; pass org=")
        return found[0] if found else None

    # ------------------------------------------------------------------------------- builds
    @classmethod
    def build(cls, generation: int, entries: Iterable[AppEntry]) -> "AppTable":
        table = cls(generation, {}, {}, {}, {}, {}, {})
        for entry in entries:
            table._add(entry)
        return table

    def with_organizations(self, generation: int, organization_ids: Iterable[int],
                           entries: Iterable[AppEntry]) -> "AppTable":
        """A new snapshot at ``generation`` in which the applications of ``organization_ids`` are
        exactly ``entries`` (their rows as the database holds them now). Copies the indexes once:
        a few milliseconds at 20 000 applications, whatever the organization's size."""
        table = AppTable(generation, dict(self.apps), dict(self._prefixes), dict(self._tail_dirs),
                         dict(self._by_name), dict(self._by_org), {})
        entries = list(entries)
        gone = {app_id for org_id in organization_ids for app_id in self._by_org.get(org_id, ())}
        gone.update(entry.id for entry in entries if entry.id in self.apps)  # reloaded, or moved here
        for app_id in gone:
            table._remove(self.apps[app_id])
        for entry in entries:
            table._add(entry)
        # dict(…) copies in one step: request threads may be filling ``inputs`` meanwhile
        table.inputs = {app_id: found for app_id, found in dict(self.inputs).items() if app_id not in gone}
        return table

    def at_generation(self, generation: int) -> "AppTable":
        """The same applications, known to be current at ``generation``."""
        return AppTable(generation, self.apps, self._prefixes, self._tail_dirs, self._by_name, self._by_org,
                        self.inputs)

    # Building blocks; only ever applied to a snapshot nobody reads yet.
    def _add(self, entry: AppEntry) -> None:
        self.apps[entry.id] = entry
        for prefix in entry.path_prefixes:
            self._prefixes[prefix] = tuple(sorted((*self._prefixes.get(prefix, ()), entry.id)))
            if not prefix.endswith("/"):
                head = _dir_of(prefix)
                self._tail_dirs[head] = self._tail_dirs.get(head, 0) + 1
        self._by_name[entry.name] = (*self._by_name.get(entry.name, ()), entry.id)
        self._by_org[entry.organization_id] = (*self._by_org.get(entry.organization_id, ()), entry.id)

    def _remove(self, entry: AppEntry) -> None:
        del self.apps[entry.id]
        for prefix in entry.path_prefixes:
            holders = tuple(i for i in self._prefixes.get(prefix, ()) if i != entry.id)
            if holders:
                self._prefixes[prefix] = holders
            else:
                self._prefixes.pop(prefix, None)
            if not prefix.endswith("/"):
                head = _dir_of(prefix)
                left = self._tail_dirs.get(head, 1) - 1
                if left:
                    self._tail_dirs[head] = left
                else:
                    self._tail_dirs.pop(head, None)
        for index, key in ((self._by_name, entry.name), (self._by_org, entry.organization_id)):
            ids = tuple(i for i in index.get(key, ()) if i != entry.id)
            if ids:
                index[key] = ids
            else:
                index.pop(key, None)


def load_table() -> AppTable:
    """Every application, as of the database's configuration generation (two queries: the
    generation first, so anything committed meanwhile is only ever newer than it says)."""
    current = generation.configuration_generation()
    return AppTable.build(current, _entries(_rows()))


def reload_organizations(table: AppTable, changes: generation.Changes) -> AppTable:
    """``table`` brought up to ``changes`` (from :func:`generation.configuration_changes_since`,
    read before this): one query for the changed organizations' applications, or a full load."""
    if changes.everything:
        return AppTable.build(changes.generation, _entries(_rows()))
    if not changes.organization_ids:
        return table.at_generation(changes.generation)
    return table.with_organizations(changes.generation, changes.organization_ids,
                                    _entries(_rows(changes.organization_ids)))
