"""The in-process table of applications: path prefix → application, and name → application.

An :class:`AppTable` is an immutable snapshot of the database at one configuration generation
(:mod:`mfa_policies.generation`), with the environment generation of that moment; :mod:`.mirror`
decides when it may be trusted and replaces it — wholly (:func:`load_table`), one organization at a
time (:meth:`AppTable.with_organizations`), or, after an environment-wide change, not at all
(:meth:`AppTable.at_generation`: no application row changed; the new environment generation is
what makes every app session re-run its login flow).

Matching is flat in the number of applications: prefixes live in a dict, and a path is looked up
at each of its ``/`` boundaries, longest first (a prefix that does not end with ``/`` — ``/demo/a``
— is looked up inside the segment after its last ``/``, only where such prefixes exist). The cost
grows with the path's length, never with the number of applications; the result is exactly the
longest ``startswith`` match (ties: the lowest application id).
"""

from __future__ import annotations

import functools
import json
from typing import Iterable, NamedTuple

from mfa_policies import generation
from mfa_policies.durations import parse_duration
from django.db import connection

from mfa_policies.models import Application, Organization

#: Paths the access middleware never gates (spec §3.2.4): the launcher, enrollment and step-up,
#: sign-in, the MFA challenge, static files and well-known documents.
NEVER_GATED_EXACT = ("/", "/AddMfaDevice")
# /client/v4/ is the REST API: bearer tokens, not browser sessions, guard it.
NEVER_GATED_PREFIXES = ("/AddMfaDevice/", "/account/", "/accounts/", "/mfa/", "/static/", "/.well-known/",
                        "/client/v4/")


def never_gated(path: str) -> bool:
    return path in NEVER_GATED_EXACT or path.startswith(NEVER_GATED_PREFIXES)


class AppEntry(NamedTuple):
    """One application as the runtime needs it (immutable; a tuple, so 20 000 build quickly)."""

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


def _prefix_list(value) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return ()
    return tuple(p for p in value if isinstance(p, str) and p) if isinstance(value, list) else ()


def _rows(organization_ids: Iterable[int] | None = None) -> list[AppEntry]:
    """The applications (of ``organization_ids``, or all) as entries: two queries. Plain SQL on
    purpose: Django's per-row conversion of the JSON column made a 20 000-application load several
    times slower than the query itself (measured in ``bench/runtime_scale.py``)."""
    table, org_ids = Application._meta.db_table, None
    sql = f"SELECT id, name, organization_id, config_version, session_duration, path_prefixes FROM {table}"
    params: list = []
    if organization_ids is not None:
        org_ids = [int(i) for i in organization_ids]
        if not org_ids:
            return []
        sql += f" WHERE organization_id IN ({', '.join(['%s'] * len(org_ids))})"
        params = org_ids
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    names = Organization.objects.order_by()
    names = dict((names.filter(pk__in=org_ids) if org_ids is not None else names).values_list("id", "name"))
    return [
        AppEntry(id=pk, name=name, organization_id=org_id, organization_name=names.get(org_id, ""),
                 config_version=version, session_seconds=_session_seconds(duration or ""),
                 path_prefixes=_prefix_list(prefixes))
        for pk, name, org_id, version, duration, prefixes in rows
    ]


def _dir_of(prefix: str) -> str:
    return prefix[: prefix.rfind("/") + 1]


_MISSING = object()
_GONE = object()


class _Layered:
    """A read-only mapping: a small ``overlay`` (``_GONE`` marks a removed key) over a ``base``
    that snapshots share and nobody mutates — so a snapshot differing in one organization costs
    a copy of the overlay, not of 20 000 entries."""

    __slots__ = ("base", "overlay")

    def __init__(self, base: dict, overlay: dict | None = None):
        self.base, self.overlay = base, overlay if overlay is not None else {}

    def get(self, key, default=None):
        if self.overlay:
            value = self.overlay.get(key, _MISSING)
            if value is not _MISSING:
                return default if value is _GONE else value
        return self.base.get(key, default)

    def __getitem__(self, key):
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key) -> bool:
        return self.get(key, _MISSING) is not _MISSING

    def items(self):
        for key, value in self.base.items():
            if key not in self.overlay:
                yield key, value
        for key, value in self.overlay.items():
            if value is not _GONE:
                yield key, value

    def values(self):
        return (value for _, value in self.items())

    def __iter__(self):
        return (key for key, _ in self.items())

    def __len__(self) -> int:
        return sum(1 for _ in self.items())

    # Only on a snapshot nobody reads yet:
    def set(self, key, value) -> None:
        self.overlay[key] = value

    def remove(self, key) -> None:
        if key in self.base:
            self.overlay[key] = _GONE
        else:
            self.overlay.pop(key, None)

    def branch(self) -> "_Layered":
        return _Layered(self.base, dict(self.overlay))

    def compacted(self) -> "_Layered":
        return _Layered(dict(self.items()))


#: A snapshot folds its overlays into new bases once they hold this share of the base's keys
#: (a full copy every few hundred small changes, instead of one per change).
COMPACT_SHARE = 0.25
COMPACT_MIN = 2000


class AppTable:
    """One snapshot of the applications; read-only once built."""

    __slots__ = ("generation", "environment_generation", "apps", "_prefixes", "_tail_dirs", "_by_name", "_by_org")

    def __init__(self, generation: int, apps: _Layered, prefixes: _Layered, tail_dirs: _Layered,
                 by_name: _Layered, by_org: _Layered, environment_generation: int = 0):
        self.generation = generation
        #: The environment generation this snapshot is current at: an app session granted under
        #: another one re-runs the login flow (:mod:`.revocation`).
        self.environment_generation = environment_generation
        self.apps = apps                # id → AppEntry
        self._prefixes = prefixes       # prefix → ids holding it, ascending (the first wins)
        self._tail_dirs = tail_dirs     # "/demo/" → how many prefixes like "/demo/a" it has
        self._by_name = by_name
        self._by_org = by_org

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
    def build(cls, generation: int, entries: Iterable[AppEntry], environment_generation: int = 0) -> "AppTable":
        apps, prefixes, tail_dirs, by_name, by_org = {}, {}, {}, {}, {}
        for entry in entries:
            app_id = entry.id
            apps[app_id] = entry
            for prefix in entry.path_prefixes:
                holders = prefixes.get(prefix)
                prefixes[prefix] = (app_id,) if holders is None else tuple(sorted((*holders, app_id)))
                if prefix[-1] != "/":
                    head = _dir_of(prefix)
                    tail_dirs[head] = tail_dirs.get(head, 0) + 1
            by_name[entry.name] = (*by_name.get(entry.name, ()), app_id)
            by_org[entry.organization_id] = (*by_org.get(entry.organization_id, ()), app_id)
        return cls(generation, _Layered(apps), _Layered(prefixes), _Layered(tail_dirs), _Layered(by_name),
                   _Layered(by_org), environment_generation)

    def with_organizations(self, generation: int, organization_ids: Iterable[int],
                           entries: Iterable[AppEntry], environment_generation: int | None = None) -> "AppTable":
        """A new snapshot at ``generation`` in which the applications of ``organization_ids`` are
        exactly ``entries`` (their rows as the database holds them now). Costs what those
        organizations hold, not what the table holds (see :class:`_Layered`)."""
        if environment_generation is None:
            environment_generation = self.environment_generation
        table = AppTable(generation, self.apps.branch(), self._prefixes.branch(), self._tail_dirs.branch(),
                         self._by_name.branch(), self._by_org.branch(), environment_generation)
        entries = list(entries)
        gone = {app_id for org_id in organization_ids for app_id in self._by_org.get(org_id, ())}
        gone.update(entry.id for entry in entries if entry.id in self.apps)  # reloaded, or moved here
        for app_id in gone:
            table._remove(self.apps[app_id])
        for entry in entries:
            table._add(entry)
        overlay = sum(len(layer.overlay) for layer in table._layers())
        if overlay > max(COMPACT_MIN, COMPACT_SHARE * len(self.apps.base)):
            table = table._compacted()
        return table

    def at_generation(self, generation: int, environment_generation: int | None = None) -> "AppTable":
        """The same applications, known to be current at ``generation`` (and at
        ``environment_generation``, when given): no copy, whatever the table holds."""
        if environment_generation is None:
            environment_generation = self.environment_generation
        return AppTable(generation, self.apps, self._prefixes, self._tail_dirs, self._by_name, self._by_org,
                        environment_generation)

    def _layers(self) -> tuple[_Layered, ...]:
        return (self.apps, self._prefixes, self._tail_dirs, self._by_name, self._by_org)

    def _compacted(self) -> "AppTable":
        return AppTable(self.generation, *(layer.compacted() for layer in self._layers()),
                        environment_generation=self.environment_generation)

    # Building blocks; only ever applied to a snapshot nobody reads yet.
    def _add(self, entry: AppEntry) -> None:
        self.apps.set(entry.id, entry)
        for prefix in entry.path_prefixes:
            self._prefixes.set(prefix, tuple(sorted((*self._prefixes.get(prefix, ()), entry.id))))
            if not prefix.endswith("/"):
                head = _dir_of(prefix)
                self._tail_dirs.set(head, self._tail_dirs.get(head, 0) + 1)
        self._by_name.set(entry.name, (*self._by_name.get(entry.name, ()), entry.id))
        self._by_org.set(entry.organization_id, (*self._by_org.get(entry.organization_id, ()), entry.id))

    def _remove(self, entry: AppEntry) -> None:
        self.apps.remove(entry.id)
        for prefix in entry.path_prefixes:
            holders = tuple(i for i in self._prefixes.get(prefix, ()) if i != entry.id)
            if holders:
                self._prefixes.set(prefix, holders)
            else:
                self._prefixes.remove(prefix)
            if not prefix.endswith("/"):
                head = _dir_of(prefix)
                left = self._tail_dirs.get(head, 1) - 1
                if left:
                    self._tail_dirs.set(head, left)
                else:
                    self._tail_dirs.remove(head)
        for index, key in ((self._by_name, entry.name), (self._by_org, entry.organization_id)):
            ids = tuple(i for i in index.get(key, ()) if i != entry.id)
            if ids:
                index.set(key, ids)
            else:
                index.remove(key)


def load_table() -> AppTable:
    """Every application, as of the database's configuration generation (three queries: the
    generations first, so anything committed meanwhile is only ever newer than they say)."""
    current, environment = generation.configuration_state()
    return AppTable.build(current, _rows(), environment)


def reload_organizations(table: AppTable, changes: generation.Changes) -> AppTable:
    """``table`` brought up to ``changes`` (from :func:`generation.configuration_changes_since`,
    read before this): two queries for the changed organizations' applications, or a full load;
    none for an environment-wide change alone (no application row changed)."""
    if changes.everything:
        return AppTable.build(changes.generation, _rows(), changes.environment_generation)
    if not changes.organization_ids:
        return table.at_generation(changes.generation, changes.environment_generation)
    return table.with_organizations(changes.generation, changes.organization_ids,
                                    _rows(changes.organization_ids), changes.environment_generation)
