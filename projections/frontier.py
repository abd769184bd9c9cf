"""A town as folded so far: its newest snapshot, the reports after it, and the state after all.

The state's growing lists (agreements, statistics, anomalies) hold only what
the reports since the newest snapshot added; each snapshot keeps its own
share of them, so no snapshot grows with the town's history.

The projector keeps one per town between steps, so a report that arrives in
order folds onto the state in memory, and one that folds after the newest
snapshot refolds from it without reading the town back from the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import TypeAdapter

from events.kinds import ReportCorrected, ReportRetracted
from events.record import Record
from events.snapshots import Key, Snapshot
from projections import town as town_folds
from projections.replay import Fact, facts
from projections.town import Listed, TownState

STATE = TypeAdapter(TownState)
"""How a town's state is stored in a snapshot."""

LISTED = TypeAdapter(Listed)
"""How what a town's reports add to its lists is stored in a snapshot."""

EMPTY = Listed()


@dataclass(frozen=True, slots=True)
class Frontier:
    """A town's newest snapshot (`base`), the records that fold after it, and the state after all.

    `records` holds every report that folds after `base_key`, with every
    amendment of one; `key` is where the last fact folded (None: no fact).
    `known_from` is when everything in `state` was known (None: nothing yet).
    """

    town: str
    base_key: Key | None
    base_state: TownState
    records: tuple[Record, ...]
    state: TownState
    key: Key | None
    since_base: int
    known_from: datetime | None

    @classmethod
    def start(cls, town: str, base: Snapshot | None, records: Iterable[Record]) -> Frontier:
        """The town at snapshot `base` (None: before anything), with the records after it.

        Its state is the base's, `records` not yet folded: `refold` it before
        anything else, which also moves `known_from` to the refold's step.
        """
        state = state_at(town, base)
        key = None if base is None else base.key
        known_from = None if base is None else base.known_from
        return cls(town, key, state, tuple(records), state, key, 0, known_from)

    def takes_in_order(self, placed: list[tuple[Record, Key]]) -> bool:
        """Whether `placed` are plain reports that all fold after every fact so far."""
        return all(
            not isinstance(record.event, ReportCorrected | ReportRetracted)
            and (self.key is None or key > self.key)
            for record, key in placed
        )

    def advance(
        self, placed: list[tuple[Record, Key]], every: int
    ) -> tuple[Frontier, list[Snapshot]]:
        """Fold reports that come after every fact so far; a snapshot every `every` facts.

        Each snapshot holds from when the last of what it folds was known, not
        from the end of the step: nothing known later folds before it, or it
        would not be folded in order. So a read at a moment inside a long
        catch-up still finds a snapshot near it.
        """
        frontier, snapshots = self, []
        for record, key in sorted(placed, key=_second):
            fact = Fact(record.event, record)  # type: ignore[arg-type]
            frontier = frontier._folded(fact, key, record)
            if frontier.since_base >= every:
                assert frontier.key is not None
                assert frontier.known_from is not None
                known = frontier.known_from
                state, snapshot = _snapshot(frontier.town, frontier.key, frontier.state, known)
                snapshots.append(snapshot)
                at = frontier.key
                frontier = Frontier(frontier.town, at, state, (), state, at, 0, known)
        return frontier, snapshots

    def refold(
        self, added: Iterable[Record], every: int, known_from: datetime
    ) -> tuple[Frontier, list[Snapshot]]:
        """Fold everything after the base again, with `added`; a snapshot every `every` facts."""
        records = (*self.records, *added)
        ordered = [f for f in facts(records) if self.base_key is None or _key(f) > self.base_key]
        base_key, base_state, state = self.base_key, self.base_state, self.base_state
        snapshots: list[Snapshot] = []
        for n, fact in enumerate(ordered, 1):
            state = town_folds.evolve(state, fact)
            if n % every == 0:
                base_key = _key(fact)
                state, snapshot = _snapshot(self.town, base_key, state, known_from)
                base_state = state
                snapshots.append(snapshot)
        after = [f for f in ordered if base_key is None or _key(f) > base_key]
        kept = {f.id for f in after}
        return Frontier(
            self.town,
            base_key,
            base_state,
            tuple(r for r in records if r.id in kept or r.target in kept),
            state,
            _key(ordered[-1]) if ordered else self.key,
            len(after),
            known_from,
        ), snapshots

    def _folded(self, fact: Fact, key: Key, record: Record) -> Frontier:
        state = town_folds.evolve(self.state, fact)
        records = (*self.records, record)
        known = record.recorded_at
        if self.known_from is not None and self.known_from > known:
            known = self.known_from
        return Frontier(
            self.town,
            self.base_key,
            self.base_state,
            records,
            state,
            key,
            self.since_base + 1,
            known,
        )


def state_at(town: str, snapshot: Snapshot | None) -> TownState:
    """The town's state a snapshot holds, lists emptied; before any snapshot, the empty state."""
    return TownState(town) if snapshot is None else STATE.validate_json(snapshot.state)


def lists_up_to(listed: Iterable[str]) -> list[Listed]:
    """What a chain of snapshots' `listed` hold, in order."""
    return [LISTED.validate_json(part) for part in listed]


def _snapshot(
    town: str, key: Key, state: TownState, known_from: datetime
) -> tuple[TownState, Snapshot]:
    """The snapshot of `state`, and the state to fold on from: its lists go into the snapshot."""
    core, listed = town_folds.split(state)
    kept = None if listed == EMPTY else LISTED.dump_json(listed).decode()
    return core, Snapshot(town, key, known_from, STATE.dump_json(core).decode(), listed=kept)


def _key(fact: Fact) -> Key:
    return (fact.occurred_at, fact.record.position)


def _second(pair: tuple[Record, Key]) -> Key:
    return pair[1]
