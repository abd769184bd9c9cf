"""Snapshots of folded streams, kept beside the log so a read need not replay it.

A snapshot is a stream's state after every fact up to a key `(occurred_at,
position)`, as known from `known_from` until `known_until` (exclusive; None
while it still holds). A later report that folds at or before that key ends
it, and a new one starts from then on, unless the new one would say the same.
So a read at any `as_of` and `known_at` starts from the latest snapshot that
held at `known_at` and folds only the few reports after it: the `tail`.

Every change comes in one `Update` that also moves the checkpoint, the log
position the snapshots reflect, so they never disagree with it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from threading import Lock
from typing import Protocol, TypeVar
from uuid import UUID

from events.kinds import (
    CAPTIVE_KINDS,
    ReportCorrected,
    ReportRetracted,
    groups_named,
    is_correction,
)
from events.record import Record
from events.store import MAX_PAGE, EventStore

Key = tuple[datetime, int]
"""Where a fact folds: `(occurred_at, position)`."""

Toll = tuple[int, int, int]
"""The dead as low, best and high figures."""

NO_TOLL: Toll = (0, 0, 0)

LAST_POSITION = 2**62
"""Beyond every position: `(as_of, LAST_POSITION)` follows all that occurred by `as_of`."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A stream's state after every fact up to `key`, as known from `known_from`.

    What only grows with history is kept out of `state`: `listed` holds just
    what the facts since the stream's previous snapshot added (None: nothing),
    and `toll` just the dead they added, so a snapshot's size does not grow
    with its stream's history, and a late report changes only its own.
    """

    stream: str
    key: Key
    known_from: datetime
    state: str
    known_until: datetime | None = None
    listed: str | None = None
    toll: Toll = NO_TOLL

    def says_what(self, other: Snapshot) -> bool:
        """Whether `other` is at the same key with the same state, lists and dead."""
        return (self.key, self.state, self.listed, self.toll) == (
            other.key,
            other.state,
            other.listed,
            other.toll,
        )


@dataclass(frozen=True, slots=True)
class Closure:
    """From `at` on, the snapshot of `stream` at `key` that held until then holds no more."""

    stream: str
    key: Key
    at: datetime


@dataclass(frozen=True, slots=True)
class Move:
    """A correction known from `known_from` moved the report at `position` to `occurred_at`."""

    town: str
    position: int
    occurred_at: datetime
    known_from: datetime


@dataclass(frozen=True, slots=True)
class Held:
    """How many captives `town` held from the fact at `key` on, as known from `known_from`."""

    town: str
    key: Key
    known_from: datetime
    held: int
    known_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """An entry of the captive ledger from the fact at `key` on, as known from `known_from`.

    `name` says what it is: a captive group's state (`group:` and its slug),
    remains handed over or an anomaly across groups (`remains:` or `anomaly:`
    and the id of the report that made it). `body` is its JSON. A read takes,
    of each name, the latest entry up to `as_of` that held at `known_at`.
    """

    name: str
    key: Key
    known_from: datetime
    body: str
    known_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Cut:
    """From `at` on, no Held row or Entry at or after `key` holds any more.

    Of every town and name, or, where `towns` or `names` are given, of those only.
    """

    key: Key
    at: datetime
    towns: frozenset[str] | None = None
    names: frozenset[str] | None = None

    def ends(self, row: Held | Entry) -> bool:
        """Whether the cut ends `row`, were it still holding."""
        if row.key < self.key:
            return False
        if isinstance(row, Held):
            return self.towns is None or row.town in self.towns
        return self.names is None or row.name in self.names


@dataclass(frozen=True, slots=True)
class Update:
    """One step of the projection: the checkpoint moves from `after` to `through`."""

    after: int
    through: int
    closures: list[Closure] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    towns: dict[str, datetime] = field(default_factory=dict)
    """When each town of the step was first known in it."""
    reach: dict[str, datetime] = field(default_factory=dict)
    """The latest time at which a record of the step folds, or did before, in each town."""
    cuts: list[Cut] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    """The records the step folds, in position order."""


@dataclass(frozen=True, slots=True)
class TownRead:
    """What reading one town at a moment takes: its snapshot, tail, version and captives held.

    `listed` is the `listed` of every snapshot up to `snapshot` that held
    then, in key order, and `toll` the sum of their tolls: together they give
    the lists and the dead up to `snapshot`.
    """

    town: str
    snapshot: Snapshot | None
    tail: list[Record]
    version: int
    held: int
    listed: tuple[str, ...] = ()
    toll: Toll = NO_TOLL


@dataclass(frozen=True, slots=True)
class ReadBack:
    """A stretch of a town's history: a snapshot that still holds, what holds after it, the records.

    `later` are the snapshots that still hold from the start key on, in key
    order: all of them when `whole`, else only the first few asked for.
    `records` holds each report that occurred from the snapshot's time on (to
    the last of `later`'s time, unless `whole`), or was moved there, or was
    asked for, with every amendment of one; some may fold outside once
    amended: the caller drops them.
    """

    snapshot: Snapshot | None
    records: list[Record]
    later: list[Snapshot] = field(default_factory=list)
    whole: bool = True


CaptiveKey = tuple[Key, UUID, frozenset[str]]
"""A captive report's stored key, its id and the captive groups it names."""


class CaptiveLog(Protocol):
    """What the captive ledger folds from when it folds again from a key its memory lacks."""

    def captive_keys(self, through: int, since: Key | None) -> list[CaptiveKey]:
        """The stored key, id and groups named of each captive report from key `since` on
        (None: from the first), up to `through`.

        In no order, and light: no event is validated, so the captive ledger's
        fold from `since` can order them all, then read them a page at a time,
        or pick the few that name the groups an amendment changes.
        """
        ...

    def open_entries_of(self, names: Collection[str]) -> list[Entry]:
        """Every ledger entry of those names that still holds, in key order."""
        ...

    def open_held(self, towns: Collection[str]) -> list[Held]:
        """Every row of captives held in those towns that still holds, in key order."""
        ...

    def open_entries(self, before: Key) -> list[Entry]:
        """Of each name, the latest ledger entry before `before` that still holds, in key order.

        They make up the captive ledger after every fact before `before` as
        known now, so the ledger folds again from there, not from the log's start.
        """
        ...

    def recent_key(self, count: int) -> Key | None:
        """The key of the `count`-th latest fact the ledger's kept entries hold; None if fewer."""
        ...

    def captive_amendments(self, through: int) -> list[Record]:
        """Every amendment of a captive report up to position `through`, in position order."""
        ...

    def naming(
        self, groups: Collection[str], through: int, since: Key, also: Collection[UUID] = ()
    ) -> list[Record]:
        """Up to position `through`: each captive report that names one of `groups` as first
        recorded at a key from `since` on, or in the replacement of any of its corrections;
        the reports `also`; and every amendment of each, in position order.

        That holds every report that names one of the groups as it folds now
        from `since` on, and some that no longer do: the caller folds them to
        tell. Found through indexes of the log, however long it is.
        """
        ...

    def records(self, ids: Collection[UUID]) -> dict[UUID, Record]:
        """The records of those events in the log, by id."""
        ...


class Snapshots(CaptiveLog, Protocol):
    """Where snapshots, moves and the checkpoint are kept."""

    def checkpoint(self) -> int:
        """The log position every snapshot and move reflects."""
        ...

    def read_back(
        self,
        starts: Mapping[str, Key],
        through: int,
        also: Mapping[str, Collection[int]],
        ahead: int | None = None,
    ) -> dict[str, ReadBack]:
        """For each town of `starts`, the stretch of its history a refold from its start key needs.

        That is its latest snapshot that still holds with a key below its
        start; the snapshots that still hold from the start on, only the first
        `ahead` of them unless None; and the records up to position `through`
        that fold from the one to the last of the others (to the end if they
        are all there), with the reports at its positions in `also`.
        """
        ...

    def moves(self, reports: Collection[tuple[str, int]]) -> list[Move]:
        """Every move of the `reports`, each named by its town and position."""
        ...

    def every_town(self, as_of: datetime, known_at: datetime) -> list[TownRead]:
        """What reading each town known at `known_at` as of `as_of` takes, in a few queries.

        Like `read_town`, it sees one state of the store, and the log only up to
        the checkpoint: snapshots and tails never disagree.
        """
        ...

    def read_town(self, town: str, as_of: datetime, known_at: datetime) -> TownRead:
        """What reading `town` as of `as_of` as known at `known_at` takes (version 0: unknown)."""
        ...

    def ledger(self, as_of: datetime, known_at: datetime, name: str | None = None) -> list[Entry]:
        """Of each name (or just `name`), the latest entry up to `as_of` that held at `known_at`.

        In key order. Like the town reads, it reflects the log up to the checkpoint.
        """
        ...

    def save(self, update: Update) -> bool:
        """Apply `update` atomically; False, changing nothing, if the checkpoint is not `after`."""
        ...

    def reset(self) -> None:
        """Forget every snapshot, move, town, row and entry; the checkpoint goes back to 0."""
        ...


class InMemorySnapshots:
    """Snapshots in memory over any EventStore: the twin the tests and the memory store use."""

    def __init__(self, log: EventStore) -> None:
        self._log = log
        self._lock = Lock()
        self._checkpoint = 0
        self._snapshots: dict[str, list[Snapshot]] = {}
        self._moves: list[Move] = []
        self._towns: dict[str, datetime] = {}
        self._held: list[Held] = []
        self._entries: list[Entry] = []

    def checkpoint(self) -> int:
        """The log position every snapshot and move reflects."""
        return self._checkpoint

    def read_back(
        self,
        starts: Mapping[str, Key],
        through: int,
        also: Mapping[str, Collection[int]],
        ahead: int | None = None,
    ) -> dict[str, ReadBack]:
        """For each town of `starts`, the stretch of its history a refold from there needs."""
        found: dict[str, ReadBack] = {}
        with self._lock:
            for town, start in starts.items():
                base = self._latest(town, start, None)
                later = sorted(
                    (s for s in self._snapshots.get(town, []) if s.known_until is None),
                    key=_key,
                )
                later = [s for s in later if s.key >= start]
                whole = ahead is None or len(later) <= ahead
                later = later if whole else later[:ahead]
                after = None if base is None else base.key
                until = None if whole else later[-1].key[0]
                tail = self._tail(
                    town, after, until, None, through=through, also=also.get(town, ())
                )
                found[town] = ReadBack(base, tail, later, whole)
        return found

    def _latest(self, stream: str, before: Key, known_at: datetime | None) -> Snapshot | None:
        """The snapshot with the greatest key below `before` that held at `known_at` (None: now)."""
        held = [
            snapshot
            for snapshot in self._snapshots.get(stream, [])
            if snapshot.key < before and _holds(snapshot, known_at)
        ]
        return max(held, key=_key, default=None)

    def moves(self, reports: Collection[tuple[str, int]]) -> list[Move]:
        """Every move of the `reports`, each named by its town and position."""
        return [m for m in self._moves if (m.town, m.position) in reports]

    def _towns_known(self, known_at: datetime) -> list[str]:
        return sorted(town for town, first in self._towns.items() if first <= known_at)

    def _held_in(self, town: str, before: Key, known_at: datetime) -> int:
        rows = [
            row
            for row in self._held
            if row.town == town and row.key < before and _holds(row, known_at)
        ]
        latest = max(rows, key=_key, default=None)
        return 0 if latest is None else latest.held

    def captive_keys(self, through: int, since: Key | None) -> list[CaptiveKey]:
        """The stored key, id and groups named of each captive report from `since` on."""
        keys = [
            ((event.occurred_at, record.position), record.id, groups_named(vars(event)))
            for record in self._captive(through)
            if not isinstance(event := record.event, ReportCorrected | ReportRetracted)
        ]
        return [
            (key, report, groups) for key, report, groups in keys if since is None or key >= since
        ]

    def open_entries_of(self, names: Collection[str]) -> list[Entry]:
        """Every ledger entry of those names that still holds, in key order."""
        with self._lock:
            found = [e for e in self._entries if e.known_until is None and e.name in names]
        return sorted(found, key=_key)

    def open_held(self, towns: Collection[str]) -> list[Held]:
        """Every row of captives held in those towns that still holds, in key order."""
        with self._lock:
            found = [row for row in self._held if row.known_until is None and row.town in towns]
        return sorted(found, key=_key)

    def open_entries(self, before: Key) -> list[Entry]:
        """Of each name, the latest ledger entry before `before` that still holds, in key order."""
        return self._latest_entries(lambda entry: entry.key < before, None)

    def recent_key(self, count: int) -> Key | None:
        """The key of the `count`-th latest fact the ledger's kept entries hold; None if fewer."""
        with self._lock:
            keys = sorted({entry.key for entry in self._entries if entry.known_until is None})
        return keys[-count] if len(keys) >= count else None

    def captive_amendments(self, through: int) -> list[Record]:
        """Every amendment of a captive report up to position `through`, in position order."""
        return [record for record in self._captive(through) if is_correction(record.event)]

    def naming(
        self, groups: Collection[str], through: int, since: Key, also: Collection[UUID] = ()
    ) -> list[Record]:
        """The captive reports naming `groups` from `since` on, the reports `also`, and their
        amendments, in position order."""
        wanted = set(groups)
        captive = list(self._captive(through))
        found = set(also)
        for record in captive:
            event = record.event
            if isinstance(event, ReportCorrected):
                if groups_named(event.replacement) & wanted:
                    found.add(event.target)
            elif not isinstance(event, ReportRetracted):
                first = (event.occurred_at, record.position)
                if first >= since and groups_named(vars(event)) & wanted:
                    found.add(record.id)
        return [r for r in captive if r.id in found or r.target in found]

    def records(self, ids: Collection[UUID]) -> dict[UUID, Record]:
        """The records of those events in the log, by id."""
        return self._log.get_many(ids)

    def _captive(self, through: int) -> Iterator[Record]:
        captive: set[UUID] = set()
        after = 0
        while page := self._log.select(after=after, limit=MAX_PAGE):
            for record in page:
                if record.position > through:
                    return
                if record.kind in CAPTIVE_KINDS:
                    captive.add(record.id)
                    yield record
                elif record.target in captive:
                    yield record
            after = page[-1].position

    def every_town(self, as_of: datetime, known_at: datetime) -> list[TownRead]:
        """What reading each town known at `known_at` as of `as_of` takes, town by town."""
        with self._lock:
            return [self._read(town, as_of, known_at) for town in self._towns_known(known_at)]

    def read_town(self, town: str, as_of: datetime, known_at: datetime) -> TownRead:
        """What reading `town` as of `as_of` as known at `known_at` takes (version 0: unknown)."""
        with self._lock:
            return self._read(town, as_of, known_at)

    def _read(self, town: str, as_of: datetime, known_at: datetime) -> TownRead:
        before = (as_of, LAST_POSITION)
        snapshot = self._latest(town, before, known_at)
        after = None if snapshot is None else snapshot.key
        tail = self._tail(town, after, as_of, known_at, through=self._checkpoint)
        version = sum(
            1 for record in _every(self._log, town, known_at) if record.position <= self._checkpoint
        )
        chain = sorted(
            (s for s in self._snapshots.get(town, []) if s.key < before and _holds(s, known_at)),
            key=_key,
        )
        listed = tuple(s.listed for s in chain if s.listed is not None)
        toll = tuple(sum(s.toll[n] for s in chain) for n in range(3))
        held = self._held_in(town, before, known_at)
        return TownRead(town, snapshot, tail, version, held, listed, toll)  # type: ignore[arg-type]

    def _tail(
        self,
        town: str,
        after: Key | None,
        until: datetime | None,
        known_at: datetime | None,
        *,
        through: int | None = None,
        also: Collection[int] = (),
    ) -> list[Record]:
        """The records a fold from `after` to `until` needs, with every amendment of them.

        That is each report of `town` that occurred from `after` to `until`, or
        was moved there, or sits at a position in `also`; only records known at
        `known_at` and at positions up to `through` count.
        """
        stream = [
            record
            for record in _every(self._log, town, known_at)
            if through is None or record.position <= through
        ]
        moved = {
            move.position
            for move in self._moves
            if move.town == town
            and (known_at is None or move.known_from <= known_at)
            and _within(move.occurred_at, after, until)
        }
        wanted = {
            record.id
            for record in stream
            if not is_correction(record.event)
            and (
                record.position in moved
                or record.position in also
                or _within(record.event.occurred_at, after, until)
            )
        }
        return [record for record in stream if record.id in wanted or record.target in wanted]

    def ledger(self, as_of: datetime, known_at: datetime, name: str | None = None) -> list[Entry]:
        """Of each name (or just `name`), the latest entry up to `as_of` that held at `known_at`."""

        def within(entry: Entry) -> bool:
            return name in (None, entry.name) and entry.key[0] <= as_of

        return self._latest_entries(within, known_at)

    def _latest_entries(
        self, within: Callable[[Entry], bool], known_at: datetime | None
    ) -> list[Entry]:
        """Of each name, the latest entry `within` that held at `known_at` (None: now)."""
        latest: dict[str, Entry] = {}
        with self._lock:
            for entry in self._entries:
                if not (within(entry) and _holds(entry, known_at)):
                    continue
                if entry.name not in latest or latest[entry.name].key < entry.key:
                    latest[entry.name] = entry
        return sorted(latest.values(), key=_key)

    def save(self, update: Update) -> bool:
        """Apply `update` atomically; False, changing nothing, if the checkpoint is not `after`."""
        with self._lock:
            if self._checkpoint != update.after:
                return False
            for closure in update.closures:
                ended = (_closed(kept, closure) for kept in self._snapshots.get(closure.stream, []))
                self._snapshots[closure.stream] = [kept for kept in ended if kept is not None]
            for snapshot in update.snapshots:
                kept = self._snapshots.setdefault(snapshot.stream, [])
                assert _place(snapshot) not in {_place(s) for s in kept}, "duplicate snapshot"
                kept.append(snapshot)
            self._moves.extend(update.moves)
            for town, first in update.towns.items():
                self._towns.setdefault(town, first)
            for cut in update.cuts:
                held = (_cut(row, cut) for row in self._held)
                self._held = [row for row in held if row is not None]
                entries = (_cut(entry, cut) for entry in self._entries)
                self._entries = [entry for entry in entries if entry is not None]
            places = {(row.town, *_place(row)) for row in self._held}
            assert not places & {(row.town, *_place(row)) for row in update.held}, "duplicate row"
            self._held.extend(update.held)
            named = {(entry.name, *_place(entry)) for entry in self._entries}
            new = {(entry.name, *_place(entry)) for entry in update.entries}
            assert not named & new, "duplicate entry"
            self._entries.extend(update.entries)
            self._checkpoint = update.through
            return True

    def reset(self) -> None:
        """Forget every snapshot, move, town, held row and entry; the checkpoint goes back to 0."""
        with self._lock:
            self._snapshots, self._moves, self._towns, self._checkpoint = {}, [], {}, 0
            self._held, self._entries = [], []


def _holds(snapshot: Snapshot | Held | Entry, known_at: datetime | None) -> bool:
    if known_at is None:
        return snapshot.known_until is None
    until = snapshot.known_until
    return snapshot.known_from <= known_at and (until is None or known_at < until)


_Row = TypeVar("_Row", Held, Entry)


def _cut(row: _Row, cut: Cut) -> _Row | None:
    """The row as the cut leaves it; None if it began at the cut and so never held."""
    if row.known_until is not None or not cut.ends(row):
        return row
    if row.known_from == cut.at:
        return None
    return replace(row, known_until=cut.at)


def _closed(snapshot: Snapshot, closure: Closure) -> Snapshot | None:
    """The snapshot as the closure leaves it; None if it began at the closure, never holding."""
    if snapshot.known_until is not None or snapshot.key != closure.key:
        return snapshot
    if snapshot.known_from >= closure.at:
        return None
    return replace(snapshot, known_until=closure.at)


def _place(row: Snapshot | Held | Entry) -> tuple[datetime, int, datetime]:
    """What makes a row unique within its stream or town, as the database's key does."""
    return (*row.key, row.known_from)


def _within(occurred_at: datetime | None, after: Key | None, until: datetime | None) -> bool:
    assert occurred_at is not None
    return (after is None or occurred_at >= after[0]) and (until is None or occurred_at <= until)


def _key(snapshot: Snapshot | Held | Entry) -> Key:
    return snapshot.key


def _every(log: EventStore, town: str, known_at: datetime | None) -> Iterator[Record]:
    after = 0
    while True:
        page = log.select(after=after, limit=MAX_PAGE, town=town, known_at=known_at)
        yield from page
        if len(page) < MAX_PAGE:
            return
        after = page[-1].position
