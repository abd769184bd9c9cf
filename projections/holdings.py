"""How many captives each town holds, kept as bitemporal rows from the captive ledger's fold.

A town's `captives_held` sums `held` over the groups held there, wherever
their reports were filed, so it comes from the one ledger fold over every
captive report. The keeper folds that ledger in memory as the log grows and
writes a `Held` row wherever a fact changes a town's total, and an `Entry`
wherever it changes a group or adds to the ledger (projections.ledger_entries),
valid from the `recorded_at` of the record that made it so.

A record that folds before facts already folded (a late report, an
amendment) folds again from the nearest ledger state kept in memory before
it, cutting every row and entry from its key on at its `recorded_at`. One
that folds before every state kept folds again only the groups it touches
(projections.regrouping), from their kept entries. A process that starts
makes up its ledger from the kept entries, never from the log's start.

Each record is kept on its own, so the rows are exact at every `known_at`; a
read is one row: the latest before `as_of` that held at `known_at`; and a
read of the ledger is, of each entry's name, that same latest one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import chain

from events.kinds import ReportCorrected, ReportRetracted
from events.record import Record
from events.snapshots import CaptiveLog, Key
from projections import captives, regrouping
from projections.captives import Ledger
from projections.ledger_entries import changed, ledger_of, named_groups
from projections.replay import Fact, facts
from projections.step_changes import Changes

POINT_EVERY = 16
"""Facts between two ledger states kept in memory."""

POINTS_KEPT = 8
"""Ledger states kept: a record that folds before the oldest folds its groups again alone."""

FOLD_PAGE = 1_000
"""Captive reports decoded at a time when memory fills from the kept entries."""


@dataclass(frozen=True, slots=True)
class _Point:
    """The ledger after every fact up to `key` (None: before any), and each town's total."""

    key: Key | None
    ledger: Ledger
    totals: dict[str, int]


_START = _Point(None, captives.empty_ledger(), {})


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
        self._following = False

    def behind(self, checkpoint: int) -> int | None:
        """Where memory stands, if it holds the ledger at an earlier position than `checkpoint`."""
        saved = self._saved
        return saved.through if saved.warm and saved.through < checkpoint else None

    def follow(self, checkpoint: int, gap: Iterable[tuple[Record, Key, bool]]) -> None:
        """Fold into memory what others folded up to `checkpoint`: its rows are theirs.

        `gap` is every captive record, and amendment of one, after the
        position memory stands at: each with the key it folds at, and whether
        it is captive. What they change goes nowhere; memory just moves on, so
        the next step need not start again from the kept entries. A record
        that folds before every state in memory would read entries that
        already hold what follows it: then memory is dropped instead.
        """
        self._memory = _copy(self._saved)
        self._following = True
        try:
            ignored = Changes()
            for record, key, captive in gap:
                self.add(record, key, ignored, captive=captive)
        except _TooFarBack:
            self._memory = _Memory(through=checkpoint)
        finally:
            self._following = False
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
        if captive and not memory.warm:  # the step's first captive record: it changed nothing yet
            self._warm_up(record.position - 1)
        memory.through = record.position
        if not captive:
            return
        memory.records.append(record)
        event = record.event
        in_order = not isinstance(event, ReportCorrected | ReportRetracted) and (
            memory.frontier.key is None or key > memory.frontier.key
        )
        if in_order:
            self._advance(Fact(event, record), (changes, record.recorded_at))  # type: ignore[arg-type]
            if len(memory.records) > 4 * self._points_kept * self._point_every:
                self._trim()
        elif any(point.key is None or point.key < key for point in memory.points):
            changes.cut(key, record.recorded_at)
            self._refold(key, record, changes)
        elif self._following:
            raise _TooFarBack
        else:
            self._regroup(key, record, changes)

    def _warm_up(self, through: int) -> None:
        """Fill memory from the kept entries and the last few facts up to position `through`.

        The ledger just before the key of the `points_kept * point_every`-th
        latest fact is made up from the kept entries; the facts from there on
        fold again, writing nothing, so that the states kept in memory cover
        the recent past.
        """
        memory = self._memory
        recent = self._log.recent_key(self._points_kept * self._point_every)
        base = _START if recent is None else self._kept_before(recent)
        memory.points, memory.warm = [base], True
        memory.frontier, memory.since_point = base, 0
        memory.records = self._fold_from(recent, through)
        self._trim()

    def _refold(self, key: Key, record: Record, changes: Changes) -> None:
        """Fold again from the newest state in memory before `key`, writing from `key` on."""
        memory = self._memory
        earlier = [n for n, p in enumerate(memory.points) if p.key is None or p.key < key]
        memory.points = memory.points[: earlier[-1] + 1]
        base = memory.points[-1]
        memory.frontier, memory.since_point = base, 0
        for fact in facts(memory.records):
            place = (fact.occurred_at, fact.record.position)
            if base.key is None or place > base.key:
                self._advance(fact, (changes, record.recorded_at) if place >= key else None)
        self._trim()

    def _kept_before(self, key: Key) -> _Point:
        """The ledger after every fact before `key`, from the kept entries that still hold.

        They are the ledger as known now, as a read of it is; the key just
        before `key` stands for all the facts they fold.
        """
        ledger = ledger_of(self._log.open_entries(key))
        totals: dict[str, int] = {}
        for group in ledger.groups.values():
            totals[group.held_at] = totals.get(group.held_at, 0) + group.held
        return _Point(_just_before(key), ledger, totals)

    def _fold_from(self, start: Key | None, through: int) -> list[Record]:
        """Fold the captive reports from `start` on, up to `through`, a page at a time, writing
        nothing; the records folded.

        The reports are ordered from their light keys first, so no more than
        a page of them is decoded at once. An amended report folds where its
        amendments put it, so those few are read and placed before the rest.
        """
        log = self._log
        amendments = regrouping.by_target(log.captive_amendments(through))
        amended = log.records(amendments)
        places = {report: place for place, report, _ in log.captive_keys(through, start)}
        for fact in facts([*amended.values(), *chain.from_iterable(amendments.values())]):
            places[fact.id] = (fact.occurred_at, fact.record.position)
        ordered = sorted(
            (r for r in places if start is None or places[r] >= start), key=places.__getitem__
        )
        folded: list[Record] = []
        for first in range(0, len(ordered), self._page):
            page = ordered[first : first + self._page]
            found = log.records([report for report in page if report not in amended])
            records = [amended.get(report) or found[report] for report in page]
            records += chain.from_iterable(amendments.get(report, ()) for report in page)
            for fact in facts(records):
                self._advance(fact, None)
            folded += records
        return sorted(folded, key=_position)

    def _regroup(self, key: Key, record: Record, changes: Changes) -> None:
        """Fold again from `key` on only the groups the record's report names, and those that
        later reports name with them (projections.regrouping), from their kept entries.

        Memory keeps the ledger after every fact, now with those groups as
        they fold again, and no earlier state: a later record that folds
        before it regroups too. Its remains and anomalies across groups stay
        as they were: what they hold is written as entries named after their
        reports, and the fold in memory only appends to them.
        """
        memory = self._memory
        done = regrouping.regroup(self._log, record, key, changes)
        groups = memory.frontier.ledger.groups.mutate()
        for slug, group in done.groups.items():
            if group is not None:
                groups[slug] = group
            elif slug in groups:
                del groups[slug]
        totals = {**memory.frontier.totals, **done.totals}
        reach = max(filter(None, [memory.frontier.key, done.reach]), default=None)
        ledger = replace(memory.frontier.ledger, groups=groups.finish())
        memory.frontier = _Point(reach, ledger, totals)
        memory.points, memory.records, memory.since_point = [memory.frontier], [], 0

    def _advance(self, fact: Fact, writing: tuple[Changes, datetime] | None) -> None:
        """Fold one more fact into the frontier; with `writing`, write what it changes."""
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
                    if writing is not None:
                        writing[0].hold(town, key, writing[1], totals[town])
        if writing is not None:
            for name, body in changed(before.ledger, ledger, fact):
                writing[0].enter(name, key, writing[1], body)
        memory.frontier = _Point(key, ledger, totals)
        memory.since_point += 1
        if memory.since_point >= self._point_every:
            memory.points.append(memory.frontier)
            memory.since_point = 0
            if len(memory.points) > 2 * self._points_kept:
                # Only the states: the records go in `_trim`, which reads them all,
                # so filling memory from the kept entries does it once at its end.
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


class _TooFarBack(Exception):
    """A record folds before every state in memory, while memory only follows others."""


def _just_before(key: Key) -> Key:
    """The greatest key below `key`: a state there holds every fact before `key`."""
    return (key[0], key[1] - 1)


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
