"""The in-process application table: segment-wise matching is exactly the longest ``startswith``
match, flat in the number of applications; a per-organization reload gives what a full load gives."""

from __future__ import annotations

import timeit

from hypothesis import given, settings, strategies as st

from mfa_policies.access.app_table import AppEntry, AppTable, load_table, reload_organizations
from mfa_policies.generation import Changes


def _entry(app_id, prefixes, org=1, name=None):
    return AppEntry(id=app_id, name=name or f"app {app_id}", organization_id=org, organization_name=f"org {org}",
                    config_version=1, session_seconds=60, path_prefixes=tuple(prefixes))


def _naive(entries, path):
    """The old linear scan: longest prefix first, then the prefix, then the id."""
    pairs = sorted(((p, e.id) for e in entries for p in e.path_prefixes), key=lambda x: (-len(x[0]), x[0], x[1]))
    return next((app_id for p, app_id in pairs if path.startswith(p)), None)


segment = st.sampled_from(["a", "ab", "abc", "b", "demo", "d", "x1", ""])
prefix = st.lists(segment, min_size=0, max_size=3).map(lambda parts: "/" + "/".join(parts)).flatmap(
    lambda p: st.sampled_from([p, p + "/"]))
path = st.lists(segment, min_size=0, max_size=5).map(lambda parts: "/" + "/".join(parts)).flatmap(
    lambda p: st.sampled_from([p, p + "/", p + "/z"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(prefix, min_size=0, max_size=3), min_size=0, max_size=6), st.lists(path, max_size=10))
def test_match_is_the_longest_prefix_match(prefix_lists, paths):
    entries = [_entry(i + 1, dict.fromkeys(ps)) for i, ps in enumerate(prefix_lists)]
    table = AppTable.build(1, entries)
    for p in paths + ["/", "/demo/a/bench/", "/demo"]:
        found = table.match(p)
        assert (found.id if found else None) == _naive(entries, p), p


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3), st.lists(prefix, max_size=2)), max_size=8),
       st.lists(st.tuples(st.integers(1, 3), st.lists(prefix, max_size=2)), max_size=8),
       st.sets(st.integers(1, 3)), st.lists(path, max_size=8))
def test_reloading_organizations_gives_what_a_full_build_gives(before, after, changed, paths):
    old = [_entry(i + 1, dict.fromkeys(ps), org=org) for i, (org, ps) in enumerate(before)]
    # the database now: unchanged organizations as before, changed ones as in ``after`` (new ids)
    new_rows = [e for e in old if e.organization_id not in changed] + [
        _entry(100 + i, dict.fromkeys(ps), org=org) for i, (org, ps) in enumerate(after) if org in changed]
    incremental = AppTable.build(1, old).with_organizations(
        2, changed, [e for e in new_rows if e.organization_id in changed])
    full = AppTable.build(2, new_rows)
    for table in (incremental, incremental._compacted()):  # an overlay over the old base, and folded
        assert dict(table.apps.items()) == dict(full.apps.items())
        for p in paths:
            assert table.match(p) == full.match(p)
        for e in new_rows:
            assert table.by_name(e.name) == full.by_name(e.name)


def test_an_application_moved_to_another_organization_is_found_once():
    table = AppTable.build(1, [_entry(1, ["/a/"], org=1)])
    moved = table.with_organizations(2, {2}, [_entry(1, ["/b/"], org=2)])
    assert moved.match("/a/x") is None and moved.match("/b/x").organization_id == 2


def test_matching_is_flat_in_the_number_of_applications():
    small = AppTable.build(1, [_entry(i, [f"/app{i}/"]) for i in range(1, 4)] + [_entry(9, ["/demo/a/"])])
    large = AppTable.build(1, [_entry(i, [f"/app{i}/", f"/x/app{i}"]) for i in range(1, 20_001)]
                           + [_entry(30_000, ["/demo/a/"])])
    for table in (small, large):
        assert table.match("/demo/a/bench/").id in (9, 30_000)

    def best(table):
        return min(timeit.repeat(lambda: table.match("/demo/a/bench/"), number=2000, repeat=5))

    assert best(large) < best(small) * 3 + 0.002  # the old scan was ~1 000× slower at 20 000


def test_full_and_incremental_loads_read_the_database(db, make_org, make_app):
    org1, org2 = make_org(), make_org()
    a = make_app(org1, path_prefixes=["/one/"])
    make_app(org2, path_prefixes=["/two/"])
    table = load_table()
    assert table.match("/one/x").id == a.pk and table.match("/two/x").organization_id == org2.pk
    a.delete()
    b = make_app(org1, path_prefixes=["/one/b/"])
    reloaded = reload_organizations(table, Changes(generation=5, organization_ids=frozenset({org1.pk})))
    assert reloaded.generation == 5
    assert reloaded.match("/one/x") is None and reloaded.match("/one/b/y").id == b.pk
    assert reloaded.match("/two/x").organization_id == org2.pk
