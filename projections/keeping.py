"""Town states kept up to date as the log grows, and read at any moment without replay.

The projector follows the log from its checkpoint. A step takes the records
of a few log pages; each town's records fold in the order they were known.
Reports that fold after the town's last fact fold on from its state in
memory. A late report, or an amendment, folds again from the newest snapshot
before its earliest place, ending the snapshots it changes and writing new
ones, until a snapshot would say what the one already there says: the rest
still hold. Other towns are not touched.

A read starts from the latest snapshot that held at `known_at` and folds the
tail after it: at most `CAP * every` reports, about `every`, however long the
history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import groupby
from threading import Lock
from uuid import UUID

from events.appending import replacement_of
from events.kinds import CAPTIVE_KINDS, CORRECTION_KINDS, ReportCorrected, ReportRetracted
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
from projections.captives import Ledger
from projections.frontier import Stretch, as_toll, lists_up_to, state_at
from projections.holdings import Holdings
from projections.ledger_entries import GROUP, ledger_of
from projections.replay import Fact, facts
from projections.step_changes import Changes
from projections.town import TownState

EVERY = 8
"""Facts between two snapshots of a town, on average: a read folds about this many."""

PAGES_PER_STEP = 10
"""Log pages folded per update: more means fewer refolds when catching up a long way."""

READ_BACK_TOWNS = 100
"""Towns read back together when a step folds before what a town keeps in memory."""

AHEAD = 3
"""Snapshots read back past an old change's place: a refold usually meets an unchanged
one by then; if not, the town's whole history from there is read."""

RETRIES = 5
"""Times a town's step folds again with more of its history read back, before it reads all."""

KEPT = 4
"""Snapshots each town keeps in memory between steps, with the records after the oldest."""

FOLLOW_PAGES = 10
"""Log pages of captive records and amendments the ledger in memory follows others by."""

_FOLLOWED = sorted(CAPTIVE_KINDS | CORRECTION_KINDS)


@dataclass(frozen=True, slots=True)
class KeptTown:
    """A town's state at a moment, with its version and captives held then."""

    state: TownState
    version: int
    captives_held: int


@dataclass(frozen=True, slots=True)
class _Placed:
    """A record, where it folds, the first and last places it changes, and if it is captive.

    A report folds at its own place; an amendment at its report's first place.
    """

    record: Record
    key: Key
    first: Key
    last: Key
    captive: bool


def _groups(placed: Iterable[_Placed]) -> list[list[_Placed]]:
    """A town's records grouped by when they were known, in that order."""
    ordered = sorted(placed, key=lambda p: (p.record.recorded_at, p.record.position))
    return [list(group) for _, group in groupby(ordered, _known)]


def _known(placed: _Placed) -> datetime:
    return placed.record.recorded_at


class _Writes:
    """A step's snapshot rows: the stored ones it ends, and the new ones (ended or not)."""

    def __init__(self) -> None:
        self.closures: list[Closure] = []
        self._new: dict[tuple[str, Key, datetime], Snapshot] = {}

    def open(self, snapshots: Iterable[Snapshot]) -> None:
        for snapshot in snapshots:
            self._new[(snapshot.stream, snapshot.key, snapshot.known_from)] = snapshot

    def close(self, snapshots: Iterable[Snapshot], at: datetime) -> None:
        for snapshot in snapshots:
            place = (snapshot.stream, snapshot.key, snapshot.known_from)
            if place not in self._new:
                self.closures.append(Closure(snapshot.stream, snapshot.key, at))
            elif snapshot.known_from >= at:  # it never held
                del self._new[place]
            else:
                self._new[place] = replace(snapshot, known_until=at)

    @property
    def snapshots(self) -> list[Snapshot]:
        return list(self._new.values())


class _NeedsMore(Exception):
    """A town's step reached past what was read back of it: it needs its history from `start`."""

    def __init__(self, start: Key) -> None:
        super().__init__(start)
        self.start = start


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
        self._holdings = holdings or Holdings(snapshots)
        self._stretches: dict[str, Stretch] = {}
        self._stretches_through = 0

    def catch_up(self, progress: Callable[[int], object] | None = None) -> int:
        """Fold every record past the checkpoint into the snapshots; how many were folded."""
        folded = 0
        with self._lock:
            while True:
                checkpoint = self._snapshots.checkpoint()
                page = self._pages(checkpoint)
                if not page:
                    return folded
                self._follow_holdings(checkpoint)
                self._holdings.begin(checkpoint)
                if self._stretches_through != checkpoint:
                    self._stretches = {}  # another process folded meanwhile
                kept: dict[str, Stretch] = {}
                if self._snapshots.save(self._update(checkpoint, page, kept)):
                    self._holdings.commit()
                    self._stretches.update(kept)
                    self._stretches_through = page[-1].position
                    folded += len(page)
                    if progress is not None:
                        progress(len(page))
                # Otherwise another process moved the checkpoint first: start from its.

    def _follow_holdings(self, checkpoint: int) -> None:
        """Bring the captive ledger in memory up to `checkpoint` if others moved it a little.

        Otherwise the first captive record of the step would fill memory
        again from the kept entries: in a deployment of several processes,
        nearly every step. Past `FOLLOW_PAGES` pages of captive records and
        amendments, or past one that folds before every state in memory,
        that is what happens.
        """
        through = self._holdings.behind(checkpoint)
        if through is None:
            return
        gap: list[Record] = []
        for _ in range(FOLLOW_PAGES):
            page = self._log.select(after=through, kinds=_FOLLOWED)
            gap.extend(record for record in page if record.position <= checkpoint)
            if len(page) < MAX_PAGE or page[-1].position >= checkpoint:
                placed, _ = self._places(gap)
                self._holdings.follow(checkpoint, [(p.record, p.key, p.captive) for p in placed])
                return
            through = page[-1].position

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

    def ledger(self, as_of: datetime, known_at: datetime, group: str | None = None) -> Ledger:
        """The captive ledger as of `as_of`, as known at `known_at`, from its kept entries.

        With `group`, it holds that group alone, if known, and nothing else.
        """
        name = None if group is None else GROUP + group
        return ledger_of(self._snapshots.ledger(as_of, known_at, name))

    def _folded(self, read: TownRead, as_of: datetime) -> KeptTown:
        after = None if read.snapshot is None else read.snapshot.key
        state = state_at(read.town, read.snapshot)
        for fact in _after(facts(read.tail, as_of), after):
            state = town_folds.evolve(state, fact)
        lists, dead = lists_up_to(read.listed), as_toll(read.toll)
        return KeptTown(town_folds.joined(state, lists, dead), read.version, read.held)

    def _pages(self, checkpoint: int) -> list[Record]:
        records: list[Record] = []
        for _ in range(PAGES_PER_STEP):
            page = self._log.select(after=checkpoint, limit=MAX_PAGE)
            records.extend(page)
            if len(page) < MAX_PAGE:
                break
            checkpoint = page[-1].position
        return records

    def _update(self, checkpoint: int, page: list[Record], kept: dict[str, Stretch]) -> Update:
        """The step that folds `page`; each touched town's stretch to keep goes into `kept`."""
        placed, moves = self._places(page)
        update = Update(checkpoint, page[-1].position, moves=moves, records=page)
        towns: dict[str, list[_Placed]] = {}
        changes = Changes()
        for one in placed:
            update.towns.setdefault(one.record.town, one.record.recorded_at)
            reach = update.reach.get(one.record.town)
            if reach is None or reach < one.last[0]:
                update.reach[one.record.town] = one.last[0]
            towns.setdefault(one.record.town, []).append(one)
            self._holdings.add(one.record, one.key, changes, captive=one.captive)
        update.cuts.extend(changes.cuts)
        update.held.extend(changes.rows.values())
        update.entries.extend(changes.entries.values())
        moved: dict[str, set[int]] = {}
        for move in moves:
            moved.setdefault(move.town, set()).add(move.position)
        writes: dict[str, _Writes] = {}
        kept.update(self._fold_towns(checkpoint, towns, moved, writes))
        for town in towns:
            update.closures.extend(writes[town].closures)
            update.snapshots.extend(writes[town].snapshots)
        return update

    def _fold_towns(
        self,
        checkpoint: int,
        towns: dict[str, list[_Placed]],
        moved: dict[str, set[int]],
        writes: dict[str, _Writes],
    ) -> dict[str, Stretch]:
        """Fold each town's records in the order they were known; the stretches to keep.

        A town whose records fold before what it keeps in memory is read back
        from the newest snapshot before the earliest of them, `AHEAD`
        snapshots on. Should a refold need more, the town folds again with
        that read back too, `RETRIES` times at most; then with all its history
        from its earliest record's place. Each town's rows go into `writes`.
        """
        starts: dict[str, Key] = {}
        read: dict[str, list[Stretch]] = {}
        for town, placed in towns.items():
            have = self._stretches.get(town)
            if have is None and checkpoint == 0:  # from the log's start: the steps hold it all
                have = Stretch.empty(town)
            read[town] = [] if have is None else [have]
            start = _first(placed)
            if have is None or (have.base is not None and start <= have.base.key):
                starts[town] = start
        kept: dict[str, Stretch] = {}
        done: set[str] = set()
        for attempt in range(RETRIES + 2):
            whole = attempt > RETRIES
            for town, piece in self._read_back(starts, checkpoint, moved, whole).items():
                read[town] = [piece] if whole else [*read[town], piece]
            starts = {}
            for town in [town for town in towns if town not in done]:
                writes[town] = _Writes()
                try:
                    stretch = self._fold_town(town, towns[town], _joined(read[town]), writes[town])
                except _NeedsMore as needs:
                    starts[town] = _first(towns[town]) if attempt == RETRIES else needs.start
                    continue
                done.add(town)
                if stretch is not None:
                    kept[town] = stretch.trimmed(KEPT)
            if not starts:
                break
        assert not starts, "a read of a town's whole history covers every change in it"
        return kept

    def _fold_town(
        self, town: str, placed: list[_Placed], stretches: list[Stretch], writes: _Writes
    ) -> Stretch | None:
        """Fold one town's records, group by group; its stretch that reaches its end, if any.

        `stretches` are apart, in key order; only the last may reach the
        town's end. Of the records known at one moment, those that fold before
        the town's last fact fold first, so that their refold can stop before
        the others.
        """
        for group in _groups(placed):
            have = stretches[-1] if stretches and stretches[-1].tip is not None else None
            tip = None if have is None else have.tip
            amended = {p.record.target for p in group if p.record.target is not None}
            fresh: list[_Placed] = []
            late: list[_Placed] = []
            for p in group:
                after_tip = (
                    tip is not None
                    and p.record.target is None
                    and p.record.id not in amended
                    and (tip.key is None or p.key > tip.key)
                )
                (fresh if after_tip else late).append(p)
            for part in (*_apart(late), fresh):
                if not part:
                    continue
                in_order = [(p.record, p.key) for p in part]
                if have is not None and have.takes_in_order(in_order):
                    have, opened = have.advance(in_order, self._every)
                    stretches[-1] = have
                    writes.open(opened)
                    continue
                at, start, last = part[0].record.recorded_at, _first(part), _last(part)
                n = next((n for n, s in enumerate(stretches) if s.covers(start)), None)
                if n is None:
                    raise _NeedsMore(start)
                on = stretches[n]
                refolded = on.refold([p.record for p in part], start, last, at, self._every)
                if refolded is None:
                    assert on.end is not None
                    raise _NeedsMore((on.end[0], on.end[1] + 1))
                writes.close(refolded.closed, at)
                writes.open(refolded.opened)
                stretches[n] = refolded.stretch
                if n == len(stretches) - 1:
                    have = stretches[n] if stretches[n].tip is not None else None
        return stretches[-1] if stretches and stretches[-1].tip is not None else None

    def _read_back(
        self, starts: dict[str, Key], checkpoint: int, moved: dict[str, set[int]], whole: bool
    ) -> dict[str, Stretch]:
        """The stretches of history refolds from `starts` need, `READ_BACK_TOWNS` at a time."""
        found: dict[str, Stretch] = {}
        towns = list(starts)
        for first in range(0, len(towns), READ_BACK_TOWNS):
            chunk = towns[first : first + READ_BACK_TOWNS]
            backs = self._snapshots.read_back(
                {town: starts[town] for town in chunk},
                checkpoint,
                {town: moved.get(town, set()) for town in chunk},
                None if whole else AHEAD,
            )
            found.update((town, Stretch.read(town, back)) for town, back in backs.items())
        return found

    def _places(self, page: list[Record]) -> tuple[list[_Placed], list[Move]]:
        """Where each record folds first and last, whether it is captive, and the moves."""
        placed: list[_Placed] = []
        moves: list[Move] = []
        by_id = {record.id: record for record in page}
        earlier = self._earlier_moves(page, by_id)
        for record in page:
            event = record.event
            if not isinstance(event, ReportCorrected | ReportRetracted):
                assert event.occurred_at is not None
                key = (event.occurred_at, record.position)
                placed.append(_Placed(record, key, key, key, record.kind in CAPTIVE_KINDS))
                continue
            target = by_id[event.target]
            assert target.event.occurred_at is not None
            places = [target.event.occurred_at]
            places += [m.occurred_at for m in (*earlier, *moves) if m.position == target.position]
            if isinstance(event, ReportCorrected):
                moved_to = replacement_of(target.event, event).occurred_at
                assert moved_to is not None
                places.append(moved_to)
                if moved_to != target.event.occurred_at:
                    moves.append(Move(record.town, target.position, moved_to, record.recorded_at))
            first, last = (min(places), target.position), (max(places), target.position)
            placed.append(_Placed(record, first, first, last, target.kind in CAPTIVE_KINDS))
        return placed, moves

    def _earlier_moves(self, page: list[Record], by_id: dict[UUID, Record]) -> list[Move]:
        """The moves already kept of every report the page's amendments name, in one query."""
        targets = [r.target for r in page if r.target is not None and r.target not in by_id]
        if targets:
            by_id.update(self._log.get_many(targets))
        named: list[tuple[str, int]] = []
        for record in page:
            if record.target is not None:
                target = by_id[record.target]
                named.append((target.town, target.position))
        return self._snapshots.moves(named) if named else []


def _joined(stretches: list[Stretch]) -> list[Stretch]:
    """Stretches of one town as they stood before the step, joined where they meet, in key order."""
    found: list[Stretch] = []
    for stretch in sorted(stretches, key=_base_key):
        if found:
            before = found[-1]
            if before.end is None or (stretch.end is not None and stretch.end <= before.end):
                continue  # it holds nothing the one before does not
            joined = before.joined(stretch)
            if joined is not None:
                found[-1] = joined
                continue
        found.append(stretch)
    return found


def _base_key(stretch: Stretch) -> tuple[bool, Key | None]:
    return (stretch.base is not None, None if stretch.base is None else stretch.base.key)


def _apart(late: list[_Placed]) -> list[list[_Placed]]:
    """Late records, each refolded on its own in the order of its place, a report with its
    amendments: one refold of them all would fold everything between the first and last."""
    parts: dict[UUID, list[_Placed]] = {}
    for one in sorted(late, key=_first_of):
        parts.setdefault(one.record.target or one.record.id, []).append(one)
    return list(parts.values())


def _first_of(placed: _Placed) -> Key:
    return placed.first


def _first(placed: list[_Placed]) -> Key:
    return min(p.first for p in placed)


def _last(placed: list[_Placed]) -> Key:
    return max(p.last for p in placed)


def _after(ordered: list[Fact], key: Key | None) -> list[Fact]:
    if key is None:
        return ordered
    return [fact for fact in ordered if (fact.occurred_at, fact.record.position) > key]
