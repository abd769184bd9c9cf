"""What a projector keeps of a town between steps: a stretch of its history, and how it refolds.

A stretch starts after a snapshot that still holds (`base`; None: the town's
first fact) and holds the snapshots that still hold after it and every
record that folds after it. When it reaches the town's last fact it also
holds the state after that fact (its `tip`); a stretch read back for an old
change may instead end at its last snapshot.

Snapshots fall on the facts a hash of their report's position picks, one in
`every` on average and at least one in `CAP * every`, not on every n-th fact:
so a late report or an amendment moves no snapshot but those of the facts it
adds or drops. A snapshot keeps out of its state what only adds up (the lists
and the dead): it holds what the facts since the previous snapshot added. So
a refold after a change writes new snapshots only until one says what the
snapshot already at its place says, beyond every place the change touched:
from there on the old ones are still right, and stay.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import TypeAdapter

from events.kinds import ReportCorrected, ReportRetracted
from events.record import Record
from events.snapshots import Key, ReadBack, Snapshot
from projections import town as town_folds
from projections.replay import Fact, facts
from projections.town import Listed, Toll, TownState

STATE = TypeAdapter(TownState)
"""How a town's state is stored in a snapshot."""

LISTED = TypeAdapter(Listed)
"""How what a town's reports add to its lists is stored in a snapshot."""

EMPTY = Listed()

CAP = 4
"""At most `CAP * every` facts between two snapshots, whatever the hash picks."""

_SPREAD = 0x9E3779B97F4A7C15  # 2**64 / the golden ratio: consecutive positions spread apart
_WORD = 2**64 - 1


def falls_on(position: int, since: int, every: int) -> bool:
    """Whether a snapshot falls on the fact of the report at `position`, `since` facts on.

    `since` counts the facts since the previous snapshot, this one included.
    """
    return since >= CAP * every or (((position * _SPREAD) & _WORD) >> 32) % every == 0


@dataclass(frozen=True, slots=True)
class Tip:
    """The town after its last fact: the state folded on from its newest snapshot.

    `key` is where the last fact folded (None: no fact), `since` how many facts
    folded after the newest snapshot, `known_from` when all of them were
    known (None: nothing yet).
    """

    state: TownState
    key: Key | None
    since: int
    known_from: datetime | None


@dataclass(frozen=True, slots=True)
class Refolded:
    """A stretch after a change, with the snapshots that hold no more and the new ones."""

    stretch: Stretch
    closed: list[Snapshot]
    opened: list[Snapshot]


@dataclass(frozen=True, slots=True)
class Stretch:
    """A town's snapshots that still hold after `base`, the records that fold after it, its tip."""

    town: str
    base: Snapshot | None
    snapshots: tuple[Snapshot, ...]
    records: tuple[Record, ...]
    tip: Tip | None

    @classmethod
    def empty(cls, town: str) -> Stretch:
        """A town before its first record."""
        return cls(town, None, (), (), Tip(TownState(town), None, 0, None))

    @classmethod
    def read(cls, town: str, back: ReadBack) -> Stretch:
        """The stretch a read back holds; it has a tip if the read reached the town's end."""
        later = tuple(back.later)
        if not back.whole:
            return cls(town, back.snapshot, later, tuple(back.records), None)
        newest = later[-1] if later else back.snapshot
        after = None if newest is None else newest.key
        ordered = [fact for fact in facts(back.records) if after is None or _key(fact) > after]
        state = state_at(town, newest)
        for fact in ordered:
            state = town_folds.evolve(state, fact)
        times = [r.recorded_at for r in back.records]
        times += [s.known_from for s in (back.snapshot, *later) if s is not None]
        key = _key(ordered[-1]) if ordered else after
        tip = Tip(state, key, len(ordered), max(times, default=None))
        return cls(town, back.snapshot, later, tuple(back.records), tip)

    @property
    def end(self) -> Key | None:
        """The last key the stretch holds everything up to (None: the town's end)."""
        return None if self.tip is not None else self.snapshots[-1].key

    def covers(self, start: Key) -> bool:
        """Whether a refold from `start` can begin in this stretch."""
        end = self.end
        return (self.base is None or start > self.base.key) and (end is None or start <= end)

    def joined(self, later: Stretch) -> Stretch | None:
        """This stretch and a `later` one that starts within it, as one; None if they do not meet.

        Both must show the snapshots as they stood before either changed.
        """
        end = self.end
        if later.base is None or end is None or end < later.base.key:
            return None
        meets = later.base.key
        snapshots = (*(s for s in self.snapshots if s.key < meets), later.base, *later.snapshots)
        records = {record.position: record for record in (*self.records, *later.records)}
        return Stretch(self.town, self.base, snapshots, tuple(records.values()), later.tip)

    def takes_in_order(self, placed: Sequence[tuple[Record, Key]]) -> bool:
        """Whether `placed` are plain reports that all fold after the town's last fact."""
        tip = self.tip
        return tip is not None and all(
            not isinstance(record.event, ReportCorrected | ReportRetracted)
            and (tip.key is None or key > tip.key)
            for record, key in placed
        )

    def advance(
        self, placed: Sequence[tuple[Record, Key]], every: int
    ) -> tuple[Stretch, list[Snapshot]]:
        """Fold reports that come after the town's last fact; the snapshots that fall among them.

        Each snapshot holds from when the last of what it folds was known: nothing
        known later folds before it, or it would not be folded in order.
        """
        assert self.tip is not None, "only a stretch that reaches the town's end advances"
        state, key, since, known = self.tip.state, self.tip.key, self.tip.since, self.tip.known_from
        snapshots, records, opened = list(self.snapshots), list(self.records), []
        for record, at in sorted(placed, key=_second):
            state = town_folds.evolve(state, Fact(record.event, record))  # type: ignore[arg-type]
            key, since = at, since + 1
            if known is None or known < record.recorded_at:
                known = record.recorded_at
            records.append(record)
            if falls_on(at[1], since, every):
                state, snapshot = _snapshot(self.town, at, state, known)
                snapshots.append(snapshot)
                opened.append(snapshot)
                since = 0
        tip = Tip(state, key, since, known)
        return Stretch(self.town, self.base, tuple(snapshots), tuple(records), tip), opened

    def refold(
        self, added: Sequence[Record], start: Key, last: Key, at: datetime, every: int
    ) -> Refolded | None:
        """Fold again, with `added` known from `at`, from the newest snapshot before `start`.

        `added` fold (or folded) from `start` to `last`. New snapshots are known
        from `at`; the old ones they replace hold until then. The refold stops
        at the first snapshot beyond `last` that says what the old one there
        says. None if it runs past the stretch's end: it needs more.

        Should anything folded have been known after `at`, nothing old is
        kept: every snapshot from `start` on ends at `at`, and the new ones
        hold from the latest time. The log's `recorded_at` never decreases
        along its positions (the append planner sees to it), so this is a
        defence, not a path the projector takes.
        """
        records = (*self.records, *added)
        prior = [s for s in self.snapshots if s.key < start]
        origin = prior[-1] if prior else self.base
        after, end = (None if origin is None else origin.key), self.end
        ordered = [
            fact
            for fact in facts(records)
            if (after is None or _key(fact) > after) and (end is None or _key(fact) <= end)
        ]
        existing = [s for s in self.snapshots if s.key >= start]
        times = [r.recorded_at for r in records]
        times += [s.known_from for s in (origin, *existing) if s is not None]
        known = max((at, *times))
        exact = known == at
        old = {s.key: s for s in existing}
        state, since, stop = state_at(self.town, origin), 0, None
        kept: list[Snapshot] = []
        opened: list[Snapshot] = []
        for fact in ordered:
            state = town_folds.evolve(state, fact)
            key, since = _key(fact), since + 1
            if key < start or not falls_on(key[1], since, every):
                continue
            core, snapshot = _snapshot(self.town, key, state, known)
            there = old.get(key)
            if exact and there is not None and there.says_what(snapshot):
                kept.append(there)
                if key > last:
                    stop = key
                    break
            else:
                opened.append(snapshot)
                kept.append(snapshot)
            state, since = core, 0
        if stop is None and self.tip is None:
            return None
        closed = [s for s in existing if (stop is None or s.key < stop) and s not in kept]
        rest = [s for s in existing if stop is not None and s.key > stop]
        tip = self.tip
        if stop is None:
            tip = Tip(state, _key(ordered[-1]) if ordered else after, since, known)
        stretch = Stretch(self.town, self.base, (*prior, *kept, *rest), records, tip)
        return Refolded(stretch, closed, opened)

    def trimmed(self, keep: int) -> Stretch:
        """The stretch from its `keep`-th newest snapshot on: what a projector keeps in memory."""
        if len(self.snapshots) <= keep:
            return self
        base = self.snapshots[-keep - 1]
        folding = {f.id for f in facts(self.records) if _key(f) > base.key}
        records = tuple(r for r in self.records if r.id in folding or r.target in folding)
        return Stretch(self.town, base, self.snapshots[-keep:], records, self.tip)


def state_at(town: str, snapshot: Snapshot | None) -> TownState:
    """The town's state a snapshot holds, lists and dead emptied; before any, the empty state."""
    return TownState(town) if snapshot is None else STATE.validate_json(snapshot.state)


def lists_up_to(listed: Iterable[str]) -> list[Listed]:
    """What a chain of snapshots' `listed` hold, in order."""
    return [LISTED.validate_json(part) for part in listed]


def _snapshot(
    town: str, key: Key, state: TownState, known_from: datetime
) -> tuple[TownState, Snapshot]:
    """The snapshot of `state`, and the state to fold on from: its lists and dead go into it."""
    core, listed, dead = town_folds.split(state)
    kept = None if listed == EMPTY else LISTED.dump_json(listed).decode()
    toll = (dead.low, dead.best, dead.high)
    state_json = STATE.dump_json(core).decode()
    return core, Snapshot(town, key, known_from, state_json, listed=kept, toll=toll)


def as_toll(toll: tuple[int, int, int]) -> Toll:
    """A snapshot's toll as the fold's sum of the dead."""
    return Toll(*toll)


def _key(fact: Fact) -> Key:
    return (fact.occurred_at, fact.record.position)


def _second(pair: tuple[Record, Key]) -> Key:
    return pair[1]
