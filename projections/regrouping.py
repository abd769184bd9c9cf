"""Folding again only the captive groups an old report touches, and the totals of their towns.

A captive fact reads and changes only the groups its report names. So when a
report that folds long before the ledger states kept in memory arrives late,
or is amended, only the groups it names (as it was and as it is) can fold
differently from its key on, and so can the groups that later reports name
together with one of those. Those groups' reports fold again from the groups'
states just before the key; every other group and every other report stay as
they were. A town's total of captives held is then its rows as they were, less
what the refolded groups held there before, plus what they hold there now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from uuid import UUID

from immutables import Map

from events.appending import replacement_of
from events.kinds import ReportCorrected, ReportedEvent, ReportRetracted
from events.record import Record
from events.snapshots import CaptiveLog, Held, Key
from projections import captives
from projections.captives import CaptiveGroup, Ledger
from projections.ledger_entries import ANOMALY, GROUP, REMAINS, changed, group_of, named_groups
from projections.replay import Fact, facts
from projections.step_changes import Changes

Change = tuple[Key, CaptiveGroup]
"""A group's state after the fact at the key."""


@dataclass(frozen=True, slots=True)
class Refolded:
    """What folding some groups' facts again writes, and the groups' states it passes through."""

    entries: list[tuple[str, Key, str]]
    """The name, key and body of each ledger entry the facts make."""
    changes: list[Change]
    """Each group's state after each fact that changed it, in key order."""
    groups: Map[str, CaptiveGroup]
    """The groups after the last fact."""


def refold(before: Mapping[str, CaptiveGroup], folded: Sequence[Fact]) -> Refolded:
    """Fold `folded`, every fact that names the groups in key order, from their states `before`."""
    ledger = Ledger(Map(before), Map(), Map())
    entries: list[tuple[str, Key, str]] = []
    changes: list[Change] = []
    for fact in folded:
        after = captives.evolve(ledger, fact)
        key = (fact.occurred_at, fact.record.position)
        entries.extend((name, key, body) for name, body in changed(ledger, after, fact))
        changes.extend(
            (key, group)
            for slug, group in after.groups.items()
            if group is not ledger.groups.get(slug)
        )
        ledger = after
    return Refolded(entries, changes, ledger.groups)


def towns_of(before: Mapping[str, CaptiveGroup], *changes: Sequence[Change]) -> frozenset[str]:
    """Every town that any of the groups is held in, before or after any change."""
    return frozenset(
        [group.held_at for group in before.values()]
        + [group.held_at for each in changes for _, group in each]
    )


@dataclass(frozen=True, slots=True)
class Rows:
    """A town's captives held as kept: its total just before the key, and its rows from it on."""

    before: int
    after: list[tuple[Key, int]]


def totals(
    town: str,
    rows: Rows,
    before: Mapping[str, CaptiveGroup],
    old: Sequence[Change],
    new: Sequence[Change],
) -> list[tuple[Key, int]]:
    """The town's total after each fact from the key on that changes it, once the groups refold.

    `old` are the groups' states from the key on as they were kept, `new` as
    they fold now; both start from `before`. At every key where the town's
    rows, or what the groups hold there, changed, its total is its kept row
    less the groups' old part plus their new part.
    """
    moments: dict[Key, list[tuple[int, str, CaptiveGroup | int]]] = {}
    for key, held in rows.after:
        moments.setdefault(key, []).append((0, "", held))
    for side, changes in ((1, old), (2, new)):
        for key, group in changes:
            moments.setdefault(key, []).append((side, group.group, group))
    start = {slug: group.held if group.held_at == town else 0 for slug, group in before.items()}
    parts = [dict(start), dict(start)]
    kept = written = rows.before
    found: list[tuple[Key, int]] = []
    for key in sorted(moments):
        for side, slug, value in moments[key]:
            if isinstance(value, int):
                kept = value
            else:
                parts[side - 1][slug] = value.held if value.held_at == town else 0
        total = kept - sum(parts[0].values()) + sum(parts[1].values())
        if total != written:
            found.append((key, total))
            written = total
    return found


@dataclass(frozen=True, slots=True)
class Regrouped:
    """Where folding some groups again from a key on leaves them."""

    groups: dict[str, CaptiveGroup | None]
    """Each group folded again, after the last fact: None if there is no such group now."""
    totals: dict[str, int]
    """The total of each town the groups are or were held in, after the last fact."""
    reach: Key | None
    """The latest key folded again."""


def regroup(log: CaptiveLog, record: Record, key: Key, changes: Changes) -> Regrouped:
    """Fold again from `key` on the groups the record's report names, as it was and as it is,
    and those that later reports name with them, writing what changes into `changes`.

    The groups start from their kept entries just before `key`. Only the
    reports that name them are read, through the log's indexes on the groups
    named, and only their entries and the rows of the towns that hold them
    are cut and written again.
    """
    report = record.target or record.id
    through = record.position
    records = {r.id: r for r in log.naming((), through, key, also={report})}
    versions = _versions(records[report], by_target(records.values()).get(report, []))
    reading = set(chain.from_iterable(named_groups(version) for version in versions))
    groups: set[str] = set()
    folded = [f for f in facts(records.values()) if f.id == report and _place(f) >= key]
    while reading:
        groups |= reading
        records.update((r.id, r) for r in log.naming(reading, through, key))
        folded = [
            fact
            for fact in facts(records.values())
            if _place(fact) >= key and (fact.id == report or named_groups(fact.event) & groups)
        ]
        reading = set(chain.from_iterable(named_groups(f.event) for f in folded)) - groups

    names = {GROUP + slug for slug in groups}
    old = changes.still_open(
        log.open_entries_of(names), (e for e in changes.entries.values() if e.name in names)
    )
    before = {e.name.removeprefix(GROUP): e for e in old if e.key < key}
    states = {slug: group_of(entry.body) for slug, entry in before.items()}
    kept = [(e.key, group_of(e.body)) for e in old if e.key >= key]
    new = refold(states, folded)
    towns = towns_of(states, kept, new.changes)
    rows = changes.still_open(
        log.open_held(towns), (row for row in changes.rows.values() if row.town in towns)
    )
    kept_rows = {town: _rows_of(town, rows, key) for town in towns}
    held = {town: totals(town, kept_rows[town], states, kept, new.changes) for town in towns}

    at = record.recorded_at
    ids = {report, *(fact.id for fact in folded)}
    ended = names | {f"{prefix}{r}" for r in ids for prefix in (REMAINS, ANOMALY)}
    changes.cut(key, at, towns, frozenset(ended))
    for name, place, body in new.entries:
        changes.enter(name, place, at, body)
    for town, found in held.items():
        for place, total in found:
            changes.hold(town, place, at, total)
    return Regrouped(
        groups={slug: new.groups.get(slug) for slug in groups},
        # A town none of whose totals changed from `key` on is back where it was before it.
        totals={
            town: found[-1][1] if found else kept_rows[town].before for town, found in held.items()
        },
        reach=max(map(_place, folded), default=None),
    )


def by_target(records: Iterable[Record]) -> dict[UUID, list[Record]]:
    """The amendments among `records` by the report each amends, in the order given."""
    found: dict[UUID, list[Record]] = {}
    for record in records:
        if record.target is not None:
            found.setdefault(record.target, []).append(record)
    return found


def _versions(report: Record, amendments: list[Record]) -> list[ReportedEvent]:
    """The report as it was first recorded, then as each of its corrections replaced it."""
    original = report.event
    assert not isinstance(original, ReportCorrected | ReportRetracted)
    return [
        original,
        *(
            replacement_of(original, amendment.event)
            for amendment in amendments
            if isinstance(amendment.event, ReportCorrected)
        ),
    ]


def _place(fact: Fact) -> Key:
    return (fact.occurred_at, fact.record.position)


def _rows_of(town: str, rows: list[Held], key: Key) -> Rows:
    """The town's kept total just before `key` and its rows from `key` on."""
    earlier = [row.held for row in rows if row.town == town and row.key < key]
    later = [(row.key, row.held) for row in rows if row.town == town and row.key >= key]
    return Rows(earlier[-1] if earlier else 0, later)
