"""How many captives each town holds, kept as bitemporal rows from the captive ledger's fold.

A town's `captives_held` sums `held` over the groups held there, wherever
their reports were filed, so it comes from the one ledger fold over every
captive report. The keeper folds that ledger in memory as the log grows and
writes a `Held` row wherever a fact changes a town's total, and an `Entry`
wherever it changes a group or adds to the ledger (projections.ledger_entries),
valid from the `recorded_at` of the record that made it so. A record that folds before facts
already folded (a late report, an amendment) cuts every row and entry from its key on,
at its `recorded_at`, and the ledger folds again from the nearest state kept
before it: one of the last few it kept in memory, or else the ledger its kept
entries make up just before that key.

Each record is kept on its own, so the rows are exact at every `known_at`; a
read is one row: the latest before `as_of` that held at `known_at`; and a
read of the ledger is, of each entry's name, that same latest one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import chain
from typing import TypeVar
from uuid import UUID

from events.kinds import ReportCorrected, ReportRetracted
from events.record import Record
from events.snapshots import CaptiveLog, Cut, Entry, Held, Key
from projections import captives
from projections.captives import Ledger
from projections.ledger_entries import changed, ledger_of, named_groups
from projections.replay import Fact, facts

POINT_EVERY = 16
"""Facts between two ledger states kept in memory."""

POINTS_KEPT = 8
"""Ledger states kept: a record that folds before the oldest refolds from the kept entries."""

FOLD_PAGE = 1_000
"""Captive reports decoded at a time when the ledger folds again from its kept entries."""


@dataclass(frozen=True, slots=True)
class _Point:
    """The ledger after every fact up to `key` (None: before any), and each town's total."""

    key: Key | None
    ledger: Ledger
    totals: dict[str, int]


_START = _Point(None, captives.empty_ledger(), {})


_Place = tuple[str, Key, datetime]


@dataclass(slots=True)
class Changes:
    """The rows, ledger entries and cuts one step of the projection makes."""

    cuts: list[Cut] = field(default_factory=list)
    rows: dict[_Place, Held] = field(default_factory=dict)
    entries: dict[_Place, Entry] = field(default_factory=dict)

    def cut(self, key: Key, at: datetime) -> None:
        """End every row and entry from `key` on at `at`, the step's own included."""
        self.cuts.append(Cut(key, at))
        _cut(self.rows, key, at)
        _cut(self.entries, key, at)

    def hold(self, town: str, key: Key, at: datetime, held: int) -> None:
        """From `at` on, `town` holds `held` after the fact at `key`."""
        self.rows[(town, key, at)] = Held(town, key, at, held)

    def enter(self, name: str, key: Key, at: datetime, body: str) -> None:
        """From `at` on, the ledger's entry `name` reads `body` after the fact at `key`."""
        self.entries[(name, key, at)] = Entry(name, key, at, body)


_Row = TypeVar("_Row", Held, Entry)


def _cut(rows: dict[_Place, _Row], key: Key, at: datetime) -> None:
    for place, row in list(rows.items()):
        if row.key < key or row.known_until is not None:
            continue
        if row.known_from == at:
            del rows[place]  # never held: its replacement comes from the same moment
        else:
            rows[place] = replace(row, known_until=at)


@dataclass(slots=True)
class _Memory:
    """What the keeper knows between steps, up to log position `through`."""

    through: int
    warm: bool = False
    records: list[Record] = field(default_factory=list)
    points: list[_Point] = field(default_factory=list)
    frontier: _Point = _START
    since_point: int = 0


class Holdings:
    """Keeps the Held rows in step with the log, record by record."""

    def __init__(
        self,
        log: CaptiveLog,
        *,
        point_every: int = POINT_EVERY,
        points_kept: int = POINTS_KEPT,
        page: int = FOLD_PAGE,
    ) -> None:
        self._log = log
        self._page = page
        self._point_every = point_every
        self._points_kept = points_kept
        self._memory = _Memory(through=0)
        self._saved = _Memory(through=0)

    def behind(self, checkpoint: int) -> int | None:
        """Where memory stands, if it holds the ledger at an earlier position than `checkpoint`."""
        saved = self._saved
        return saved.through if saved.warm and saved.through < checkpoint else None

    def follow(self, checkpoint: int, gap: Iterable[tuple[Record, Key, bool]]) -> None:
        """Fold into memory what others folded up to `checkpoint`: its rows are theirs.

        `gap` is every captive record, and amendment of one, after the
        position memory stands at: each with the key it folds at, and whether
        it is captive. What they change goes nowhere; memory just moves on, so
        the next step need not fold the ledger again from the log's start.
        """
        self._memory = _copy(self._saved)
        ignored = Changes()
        for record, key, captive in gap:
            self.add(record, key, ignored, captive=captive)
        self._memory.through = checkpoint
        self.commit()

    def begin(self, checkpoint: int) -> None:
        """Start a step from `checkpoint`; memory of any other point is dropped."""
        if self._saved.through != checkpoint:
            self._saved = _Memory(through=checkpoint)
        self._memory = _copy(self._saved)

    def commit(self) -> None:
        """The step was saved: keep what it learnt."""
        self._saved = self._memory

    def add(self, record: Record, key: Key, changes: Changes, *, captive: bool) -> None:
        """Fold one record of the log at the key it folds at; `captive`: it is or amends one."""
        memory = self._memory
        memory.through = record.position
        if not captive:
            return
        memory.records.append(record)
        event = record.event
        in_order = not isinstance(event, ReportCorrected | ReportRetracted) and (
            memory.frontier.key is None or key > memory.frontier.key
        )
        if memory.warm and in_order:
            self._advance(Fact(event, record), changes, record.recorded_at, emit=True)  # type: ignore[arg-type]
            if len(memory.records) > 4 * self._points_kept * self._point_every:
                self._trim()
            return
        changes.cut(key, record.recorded_at)
        self._refold(key, record, changes)

    def _refold(self, key: Key, record: Record, changes: Changes) -> None:
        memory = self._memory
        at = record.recorded_at
        earlier = [n for n, p in enumerate(memory.points) if p.key is None or p.key < key]
        if not (memory.warm and earlier):
            start = key
            if not memory.warm:  # so that it keeps states for the recent facts, as it goes on
                recent = self._log.recent_key(self._points_kept * self._point_every)
                start = key if recent is None else min(key, recent)
            base = self._kept_before(start, changes)
            memory.points, memory.warm = [base], True
            memory.frontier, memory.since_point = base, 0
            memory.records = self._fold_from(start, key, record.position, at, changes)
            self._trim()
            return
        memory.points = memory.points[: earlier[-1] + 1]
        base = memory.points[-1]
        memory.frontier, memory.since_point = base, 0
        for fact in facts(memory.records):
            place = (fact.occurred_at, fact.record.position)
            if base.key is None or place > base.key:
                self._advance(fact, changes, at, emit=place >= key)
        self._trim()

    def _kept_before(self, key: Key, changes: Changes) -> _Point:
        """The ledger after every fact before `key`, from its kept entries and the step's changes.

        The entries that still hold, with those of this step laid over them,
        are the ledger as known now at every key up to the step's cuts; the
        key just before `key` stands for all the facts they fold.
        """
        cut = min((c.key for c in changes.cuts), default=None)
        latest = {
            entry.name: entry
            for entry in self._log.open_entries(key)
            if cut is None or entry.key < cut
        }
        for entry in changes.entries.values():
            if entry.known_until is None and entry.key < key:
                kept = latest.get(entry.name)
                if kept is None or (kept.key, kept.known_from) < (entry.key, entry.known_from):
                    latest[entry.name] = entry
        ledger = ledger_of(sorted(latest.values(), key=_key))
        totals: dict[str, int] = {}
        for group in ledger.groups.values():
            totals[group.held_at] = totals.get(group.held_at, 0) + group.held
        return _Point((key[0], key[1] - 1), ledger, totals)

    def _fold_from(
        self, start: Key, key: Key, through: int, at: datetime, changes: Changes
    ) -> list[Record]:
        """Fold the captive reports from `start` on, up to `through`, a page at a time.

        What they change from `key` on is written, as from `at`; the records
        still needed come back. The reports are ordered from their light keys
        first, so no more than a page of them is decoded at once. An amended
        report folds where its amendments put it, so those few are read and
        placed before the rest.
        """
        log = self._log
        amendments: dict[UUID, list[Record]] = {}
        for amendment in log.captive_amendments(through):
            assert amendment.target is not None
            amendments.setdefault(amendment.target, []).append(amendment)
        amended = log.records(amendments)
        places = {report: place for place, report in log.captive_keys(through, start)}
        for fact in facts([*amended.values(), *chain.from_iterable(amendments.values())]):
            places[fact.id] = (fact.occurred_at, fact.record.position)
        ordered = sorted((r for r in places if places[r] >= start), key=places.__getitem__)
        # The states kept after `_trim` have fewer facts after the oldest of them than this:
        # the pages that hold them are all a later refold from one of those states reads.
        needed = (self._points_kept + 1) * self._point_every
        last: deque[tuple[list[Record], int]] = deque()
        kept = 0
        for first in range(0, len(ordered), self._page):
            page = ordered[first : first + self._page]
            found = log.records([report for report in page if report not in amended])
            records = [amended.get(report) or found[report] for report in page]
            records += chain.from_iterable(amendments.get(report, ()) for report in page)
            folded = facts(records)
            for fact in folded:
                place = (fact.occurred_at, fact.record.position)
                self._advance(fact, changes, at, emit=place >= key)
            last.append((records, len(folded)))
            kept += len(folded)
            while len(last) > 1 and kept - last[0][1] >= needed:
                kept -= last.popleft()[1]
        return sorted(chain.from_iterable(records for records, _ in last), key=_position)

    def _advance(self, fact: Fact, changes: Changes, at: datetime, *, emit: bool) -> None:
        memory = self._memory
        before = memory.frontier
        ledger = captives.evolve(before.ledger, fact)
        key = (fact.occurred_at, fact.record.position)
        totals = before.totals
        deltas = _deltas(before.ledger, ledger, fact)
        if any(deltas.values()):
            totals = dict(totals)
            for town, delta in deltas.items():
                if delta:
                    totals[town] = totals.get(town, 0) + delta
                    if emit:
                        changes.hold(town, key, at, totals[town])
        if emit:
            for name, body in changed(before.ledger, ledger, fact):
                changes.enter(name, key, at, body)
        memory.frontier = _Point(key, ledger, totals)
        memory.since_point += 1
        if memory.since_point >= self._point_every:
            memory.points.append(memory.frontier)
            memory.since_point = 0
            if len(memory.points) > 2 * self._points_kept:
                # Only the states: the records go in `_trim`, which reads them all,
                # so a refold from the log's start does it once at its end.
                memory.points = memory.points[-self._points_kept :]

    def _trim(self) -> None:
        """Forget the oldest states and the records that only they needed."""
        memory = self._memory
        memory.points = memory.points[-self._points_kept :]
        oldest = memory.points[0].key if memory.points else None
        if oldest is None:
            return
        kept = {f.id for f in facts(memory.records) if (f.occurred_at, f.record.position) > oldest}
        memory.records = [r for r in memory.records if r.id in kept or r.target in kept]


def _deltas(before: Ledger, after: Ledger, fact: Fact) -> dict[str, int]:
    """How each town's total moved with the groups `fact` names."""
    deltas: dict[str, int] = {}
    for slug in named_groups(fact.event):
        old, new = before.groups.get(slug), after.groups.get(slug)
        if old is not None:
            deltas[old.held_at] = deltas.get(old.held_at, 0) - old.held
        if new is not None:
            deltas[new.held_at] = deltas.get(new.held_at, 0) + new.held
    return deltas


def _copy(memory: _Memory) -> _Memory:
    return replace(memory, records=list(memory.records), points=list(memory.points))


def _position(record: Record) -> int:
    return record.position


def _key(entry: Entry) -> Key:
    return entry.key
