"""Which reports fold, as what, and in which order: the one place that decides it.

Every read model folds `Fact`s from `facts()`, so the bitemporal rules live here
alone: records known at `known_at` are the caller's selection; retractions drop
their target; the latest correction by position replaces it; what occurred
after `as_of` is left out; the rest is ordered by `(occurred_at, position)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from events.appending import replacement_of
from events.kinds import ReportCorrected, ReportedEvent, ReportRetracted, is_correction
from events.record import Record

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Fact:
    """A report as it folds: its event as last corrected, with its original record."""

    event: ReportedEvent
    record: Record
    corrected_by: UUID | None = None

    @property
    def id(self) -> UUID:
        """The reported event's id."""
        return self.record.id

    @property
    def occurred_at(self) -> datetime:
        """When it happened, as last corrected."""
        return self.event.occurred_at


@dataclass(frozen=True, slots=True)
class Amendments:
    """What corrections and retractions say of each target, as known."""

    retracted_by: dict[UUID, UUID]
    corrected_by: dict[UUID, list[Record]]

    @classmethod
    def of(cls, records: Iterable[Record]) -> Amendments:
        """Collect the amendments among `records`, in position order."""
        retracted_by: dict[UUID, UUID] = {}
        corrected_by: dict[UUID, list[Record]] = {}
        for record in sorted(records, key=_position):
            event = record.event
            if isinstance(event, ReportRetracted):
                retracted_by.setdefault(event.target, record.id)
            elif isinstance(event, ReportCorrected):
                corrected_by.setdefault(event.target, []).append(record)
        return cls(retracted_by, corrected_by)


def facts(records: Iterable[Record], as_of: datetime | None = None) -> list[Fact]:
    """The reports among `records` as they fold at `as_of`, in `(occurred_at, position)` order.

    `records` must hold every amendment known for the reports it holds.
    """
    kept = list(records)
    amendments = Amendments.of(record for record in kept if is_correction(record.event))
    found: list[Fact] = []
    for record in kept:
        if is_correction(record.event) or record.id in amendments.retracted_by:
            continue
        fact = _as_corrected(record, amendments.corrected_by.get(record.id))
        if as_of is None or fact.occurred_at <= as_of:
            found.append(fact)
    found.sort(key=lambda fact: (fact.occurred_at, fact.record.position))
    return found


def fold(initial: S, evolve: Callable[[S, Fact], S], ordered: Iterable[Fact]) -> S:
    """Apply `evolve` to each fact in turn, starting from `initial`."""
    state = initial
    for fact in ordered:
        state = evolve(state, fact)
    return state


def _as_corrected(record: Record, corrections: list[Record] | None) -> Fact:
    event = record.event
    assert not is_correction(event)
    if not corrections:
        return Fact(event, record)  # type: ignore[arg-type]
    latest = corrections[-1]
    assert isinstance(latest.event, ReportCorrected)
    return Fact(replacement_of(event, latest.event), record, latest.id)


def _position(record: Record) -> int:
    return record.position
