"""Town states kept up to date as the log grows, and read at any moment without replay.

The projector follows the log from its checkpoint. For each town a page of
records touches, it finds the earliest place they fold (a late report folds
before what is already there; a correction folds where its report was or
goes), ends the snapshots from that place on, and folds again from the
nearest earlier snapshot that still holds, writing a new snapshot every
`every` facts. Other towns are not touched.

A read starts from the latest snapshot that held at `known_at` and folds the
tail after it: at most about `every` reports, however long the history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from threading import Lock
from uuid import UUID

from events.appending import replacement_of
from events.kinds import CAPTIVE_KINDS, ReportCorrected, ReportRetracted
from events.record import Record
from events.snapshots import (
    Closure,
    Key,
    Move,
    Snapshot,
    Snapshots,
    TownRead,
    Update,
)
from events.store import MAX_PAGE, EventStore
from projections import town as town_folds
from projections.frontier import Frontier, lists_up_to, state_at
from projections.holdings import Changes, Holdings
from projections.replay import Fact, facts
from projections.town import TownState

EVERY = 8
"""Facts between two snapshots of a town: a read folds at most about this many."""

PAGES_PER_STEP = 10
"""Log pages folded per update: more means fewer refolds when catching up a long way."""

READ_BACK_TOWNS = 100
"""Towns read back together when a step folds before their newest snapshots: their
records stay in memory until they are folded again."""


@dataclass(frozen=True, slots=True)
class KeptTown:
    """A town's state at a moment, with its version and captives held then."""

    state: TownState
    version: int
    captives_held: int


_Placed = tuple[Record, Key, bool]
"""A record, the key it folds at, and whether it is or amends a captive report."""


@dataclass(slots=True)
class _Marks:
    """Where a page's records fold in one town, in position order, and when each was known."""

    earliest: Key | None = None
    closures: list[Closure] = field(default_factory=list)
    moved: set[int] = field(default_factory=set)
    placed: list[tuple[Record, Key]] = field(default_factory=list)

    @property
    def start(self) -> Key:
        """The earliest key a record folds at."""
        assert self.earliest is not None, "marks are made for towns with records"
        return self.earliest

    def add(self, town: str, key: Key, at: datetime) -> None:
        if self.earliest is None or key < self.earliest:
            self.earliest = key
            self.closures.append(Closure(town, key, at))


class Projector:
    """Keeps town snapshots in step with the log, and folds a town at any moment from them."""

    def __init__(
        self,
        log: EventStore,
        snapshots: Snapshots,
        every: int = EVERY,
        holdings: Holdings | None = None,
    ) -> None:
        self._log = log
        self._snapshots = snapshots
        self._every = every
        self._lock = Lock()
        self._holdings = holdings or Holdings(snapshots.captive_records)
        self._frontiers: dict[str, Frontier] = {}
        self._frontiers_through = 0

    def catch_up(self, progress: Callable[[int], object] | None = None) -> int:
        """Fold every record past the checkpoint into the snapshots; how many were folded."""
        folded = 0
        with self._lock:
            while True:
                checkpoint = self._snapshots.checkpoint()
                page = self._pages(checkpoint)
                if not page:
                    return folded
                self._holdings.begin(checkpoint)
                if self._frontiers_through != checkpoint:
                    self._frontiers = {}  # another process folded meanwhile
                frontiers: dict[str, Frontier] = {}
                if self._snapshots.save(self._update(checkpoint, page, frontiers)):
                    self._holdings.commit()
                    self._frontiers.update(frontiers)
                    self._frontiers_through = page[-1].position
                    folded += len(page)
                    if progress is not None:
                        progress(len(page))
                # Otherwise another process moved the checkpoint first: start from its.

    def rebuild(self, progress: Callable[[int], object] | None = None) -> int:
        """Forget every snapshot and fold the whole log again; how many records were folded."""
        with self._lock:
            self._snapshots.reset()
        return self.catch_up(progress)

    def town(self, slug: str, as_of: datetime, known_at: datetime) -> KeptTown:
        """The town as of `as_of`, as known at `known_at`, with its version and captives held."""
        return self._folded(self._snapshots.read_town(slug, as_of, known_at), as_of)

    def every_town(self, as_of: datetime, known_at: datetime) -> list[KeptTown]:
        """Every town known at `known_at` as of `as_of`, by slug, from a few queries."""
        return [self._folded(read, as_of) for read in self._snapshots.every_town(as_of, known_at)]

    def _folded(self, read: TownRead, as_of: datetime) -> KeptTown:
        after = None if read.snapshot is None else read.snapshot.key
        state = state_at(read.town, read.snapshot)
        for fact in _after(facts(read.tail, as_of), after):
            state = town_folds.evolve(state, fact)
        return KeptTown(town_folds.joined(state, lists_up_to(read.listed)), read.version, read.held)

    def _pages(self, checkpoint: int) -> list[Record]:
        records: list[Record] = []
        for _ in range(PAGES_PER_STEP):
            page = self._log.select(after=checkpoint, limit=MAX_PAGE)
            records.extend(page)
            if len(page) < MAX_PAGE:
                break
            checkpoint = page[-1].position
        return records

    def _update(
        self, checkpoint: int, page: list[Record], frontiers: dict[str, Frontier]
    ) -> Update:
        """The step that folds `page`; each touched town's new frontier goes into `frontiers`."""
        through, known_from = page[-1].position, page[-1].recorded_at
        placed, moves = self._places(page)
        update = Update(checkpoint, through, moves=moves)
        marks: dict[str, _Marks] = {}
        changes = Changes()
        for record, key, captive in placed:
            update.towns.setdefault(record.town, record.recorded_at)
            mark = marks.setdefault(record.town, _Marks())
            mark.add(record.town, key, record.recorded_at)
            mark.placed.append((record, key))
            self._holdings.add(record, key, changes, captive=captive)
        for move in moves:
            marks[move.town].moved.add(move.position)
        update.cuts.extend(changes.cuts)
        update.held.extend(changes.rows.values())
        behind: dict[str, _Marks] = {}
        for town, mark in marks.items():
            folded = self._fold_in_memory(town, mark, update.after == 0, known_from)
            if folded is None:
                behind[town] = mark
            else:
                frontiers[town], snapshots = folded
                update.snapshots.extend(snapshots)
        if behind:
            self._fold_behind(behind, update, frontiers, known_from)
        return update

    def _fold_in_memory(
        self, town: str, mark: _Marks, from_start: bool, known_from: datetime
    ) -> tuple[Frontier, list[Snapshot]] | None:
        """Fold a page's records of one town in memory when they fold after its newest snapshot.

        None when they fold before it, or the town's frontier is not in memory.
        """
        frontier = self._frontiers.get(town)
        if frontier is None and from_start:  # from the log's start: it is all in the page
            frontier = Frontier.start(town, None, ())
        if frontier is None:
            return None
        if frontier.takes_in_order(mark.placed):
            return frontier.advance(mark.placed, self._every)
        if frontier.base_key is None or mark.start > frontier.base_key:
            return frontier.refold([record for record, _ in mark.placed], self._every, known_from)
        return None

    def _fold_behind(
        self,
        behind: dict[str, _Marks],
        update: Update,
        frontiers: dict[str, Frontier],
        known_from: datetime,
    ) -> None:
        """End the snapshots of `behind` from where their records fold, and refold from there.

        Towns are read back `READ_BACK_TOWNS` at a time: each one's latest
        snapshot that still holds before its earliest record, and the records
        after that snapshot.
        """
        for mark in behind.values():
            update.closures.extend(mark.closures)
        towns = list(behind)
        for first in range(0, len(towns), READ_BACK_TOWNS):
            chunk = towns[first : first + READ_BACK_TOWNS]
            starts = {town: behind[town].start for town in chunk}
            moved = {town: behind[town].moved for town in chunk}
            backs = self._snapshots.read_back(starts, update.through, moved)
            for town in chunk:
                frontier = Frontier.start(town, backs[town].snapshot, backs[town].records)
                frontiers[town], snapshots = frontier.refold((), self._every, known_from)
                update.snapshots.extend(snapshots)

    def _places(self, page: list[Record]) -> tuple[list[_Placed], list[Move]]:
        """Where each record folds, whether it is or amends a captive report, and the moves."""
        placed: list[_Placed] = []
        moves: list[Move] = []
        by_id = {record.id: record for record in page}
        earlier = self._earlier_moves(page, by_id)
        for record in page:
            event = record.event
            if not isinstance(event, ReportCorrected | ReportRetracted):
                assert event.occurred_at is not None
                key = (event.occurred_at, record.position)
                placed.append((record, key, record.kind in CAPTIVE_KINDS))
                continue
            target = by_id.get(event.target) or self._log.get(event.target)
            assert target is not None
            assert target.event.occurred_at is not None
            places = [target.event.occurred_at]
            places += [m.occurred_at for m in (*earlier, *moves) if m.position == target.position]
            if isinstance(event, ReportCorrected):
                moved_to = replacement_of(target.event, event).occurred_at
                assert moved_to is not None
                places.append(moved_to)
                if moved_to != target.event.occurred_at:
                    moves.append(Move(record.town, target.position, moved_to, record.recorded_at))
            key = (min(places), target.position)
            placed.append((record, key, target.kind in CAPTIVE_KINDS))
        return placed, moves

    def _earlier_moves(self, page: list[Record], by_id: dict[UUID, Record]) -> list[Move]:
        """The moves already kept of every report the page's amendments name, in one query."""
        named: list[tuple[str, int]] = []
        for record in page:
            event = record.event
            if isinstance(event, ReportCorrected | ReportRetracted):
                target = by_id.get(event.target) or self._log.get(event.target)
                assert target is not None
                by_id[target.id] = target
                named.append((target.town, target.position))
        return self._snapshots.moves(named) if named else []


def _after(ordered: list[Fact], key: Key | None) -> list[Fact]:
    if key is None:
        return ordered
    return [fact for fact in ordered if (fact.occurred_at, fact.record.position) > key]
