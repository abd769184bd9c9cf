"""Histories with late reports, corrections and retractions, and the replay they must equal."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import strategies as st

from events.errors import AlreadyRetracted
from events.kinds import Correction, ReportedEvent
from events.store import EventStore, Pending
from projections import town
from projections.keeping import Projector
from projections.replay import facts, fold
from tests.clock import FakeClock
from tests.make import correction, retraction
from tests.strategies import histories, instants


@dataclass(frozen=True, slots=True)
class Arrival:
    """What arrives next: a report, or an amendment of the n-th report that arrived."""

    report: ReportedEvent | None = None
    retract: int | None = None
    correct: int | None = None
    moved_to: datetime | None = None
    catch_up: bool = False


@st.composite
def arrivals(draw: st.DrawFn, max_size: int = 20) -> list[Arrival]:
    """Reports in any order, amendments of earlier ones, and catch-ups between them."""
    reports = draw(st.permutations(draw(histories(max_size=max_size))))
    found: list[Arrival] = []
    for n, report in enumerate(reports):
        found.append(Arrival(report=report, catch_up=draw(st.booleans())))
        if n and draw(st.integers(0, 3)) == 0:
            target = draw(st.integers(0, n))
            if draw(st.booleans()):
                found.append(Arrival(retract=target, catch_up=draw(st.booleans())))
            else:
                moved_to = draw(st.one_of(st.none(), instants))
                found.append(Arrival(correct=target, moved_to=moved_to))
    return found


def play(store: EventStore, projector: Projector, clock: FakeClock, script: list[Arrival]) -> None:
    """Append every arrival a second apart, catching the projector up where the script says."""
    sent: list[ReportedEvent] = []
    for arrival in script:
        clock.advance(seconds=1)
        if arrival.report is not None:
            sent.append(arrival.report)
            store.append([Pending(arrival.report)], "reporter")
        else:
            with suppress(AlreadyRetracted):
                store.append([Pending(_amendment(sent, arrival))], "editor")
        if arrival.catch_up:
            projector.catch_up()
    projector.catch_up()


def replayed(store: EventStore, slug: str, as_of: datetime, known_at: datetime) -> town.TownState:
    """The town folded from every one of its records known at `known_at`: the reference."""
    records = store.select(town=slug, known_at=known_at)
    return fold(town.TownState(slug), town.evolve, facts(records, as_of))


def moments(start: datetime, script: list[Arrival]) -> list[datetime]:
    """Every known_at worth asking about: before, at and between each arrival."""
    return [
        start + timedelta(seconds=n, milliseconds=500 * half)
        for n in range(len(script) + 2)
        for half in (0, 1)
    ]


def _amendment(sent: list[ReportedEvent], arrival: Arrival) -> Correction:
    index = arrival.retract if arrival.retract is not None else arrival.correct
    assert index is not None
    target = sent[min(index, len(sent) - 1)]
    assert target.id is not None
    if arrival.retract is not None:
        return retraction(target.id)
    body = target.model_dump(
        mode="json", by_alias=True, exclude={"id", "kind", "town"}, exclude_none=True
    )
    if arrival.moved_to is not None:
        body["occurred_at"] = arrival.moved_to.isoformat()
    body["notes"] = "corrected"
    return correction(target.id, body)
