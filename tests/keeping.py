"""Histories with late reports, corrections and retractions, and the replay they must equal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import strategies as st

from events.errors import AlreadyRetracted
from events.kinds import Correction, ReportedEvent
from events.record import Record
from events.snapshots import Snapshots
from events.store import EventStore, Pending
from projections import captives, town
from projections.holdings import Holdings
from projections.keeping import Projector
from projections.replay import facts, fold
from tests.clock import FakeClock
from tests.make import correction, retraction
from tests.strategies import GROUPS, KINDS, TOWNS, histories, instants


@dataclass(frozen=True, slots=True)
class Arrival:
    """What arrives next: a report, or an amendment of the n-th report that arrived."""

    report: ReportedEvent | None = None
    retract: int | None = None
    correct: int | None = None
    moved_to: datetime | None = None
    recount: int = 1
    regroup: str | None = None
    """For a captive report's correction: the group it names instead, if any."""
    rehouse: str | None = None
    """For a capture's correction: the town it is held in instead, if any."""
    catch_up: bool = False
    same_moment: bool = False
    """Recorded at the same moment as the arrival before, as the events of one batch are."""


@st.composite
def arrivals(draw: st.DrawFn, max_size: int = 20, kinds: tuple[str, ...] = KINDS) -> list[Arrival]:
    """Reports of `kinds` in any order, amendments of earlier ones, and catch-ups between them."""
    reports = draw(st.permutations(draw(histories(max_size=max_size, kinds=kinds))))
    found: list[Arrival] = []
    for n, report in enumerate(reports):
        tied = draw(st.integers(0, 3)) == 0
        found.append(Arrival(report=report, catch_up=draw(st.booleans()), same_moment=tied))
        if n and draw(st.integers(0, 3)) == 0:
            target = draw(st.integers(0, n))
            if draw(st.booleans()):
                tied = draw(st.integers(0, 3)) == 0  # as in one batch with its report
                found.append(
                    Arrival(retract=target, catch_up=draw(st.booleans()), same_moment=tied)
                )
            else:
                found.append(
                    Arrival(
                        correct=target,
                        moved_to=draw(st.one_of(st.none(), instants)),
                        recount=draw(st.integers(1, 30)),
                        regroup=draw(st.one_of(st.none(), st.sampled_from(GROUPS))),
                        rehouse=draw(st.one_of(st.none(), st.sampled_from(TOWNS))),
                        same_moment=draw(st.integers(0, 3)) == 0,
                    )
                )
    return found


def projectors(store: EventStore, snapshots: Snapshots, every: int, count: int) -> list[Projector]:
    """`count` projectors, as the processes of one deployment, keeping states every `every`."""
    return [
        Projector(
            store,
            snapshots,
            every,
            Holdings(snapshots, point_every=every, points_kept=2, page=every),
        )
        for _ in range(count)
    ]


def play(
    store: EventStore,
    projectors: list[Projector],
    clock: FakeClock,
    script: list[Arrival],
    rebuild_after: int | None = None,
    others_from: int = 0,
) -> None:
    """Append every arrival a second apart; where the script says, a projector catches up.

    The projectors take turns, as the processes of one deployment would, the
    first alone before arrival `others_from`, as if the others started then.
    After arrival `rebuild_after`, the last projector rebuilds, as `sitrep
    rebuild` beside a running service would.
    """
    sent: list[ReportedEvent] = []
    for n, arrival in enumerate(script):
        if not arrival.same_moment:
            clock.advance(seconds=1)
        if arrival.report is not None:
            sent.append(arrival.report)
            store.append([Pending(arrival.report)], "reporter")
        else:
            with suppress(AlreadyRetracted):
                store.append([Pending(_amendment(sent, arrival))], "editor")
        if arrival.catch_up:
            projectors[n % len(projectors) if n >= others_from else 0].catch_up()
        if n == rebuild_after:
            projectors[-1].rebuild()
    projectors[0].catch_up()


def replayed(store: EventStore, slug: str, as_of: datetime, known_at: datetime) -> town.TownState:
    """The town folded from every one of its records known at `known_at`: the reference."""
    records = [r for page in _pages(store, known_at, slug) for r in page]
    return fold(town.TownState(slug), town.evolve, facts(records, as_of))


def replayed_held(store: EventStore, slug: str, as_of: datetime, known_at: datetime) -> int:
    """Captives held in the town, from a fold of the whole captive ledger: the reference."""
    return replayed_ledger(store, as_of, known_at).held_at(slug)


def replayed_ledger(store: EventStore, as_of: datetime, known_at: datetime) -> captives.Ledger:
    """The captive ledger folded from every record known at `known_at`: the reference."""
    records = [r for page in _pages(store, known_at) for r in page]
    return fold(captives.empty_ledger(), captives.evolve, facts(records, as_of))


def assert_ledger_kept_as_replayed(
    projector: Projector, store: EventStore, as_of: datetime, known_at: datetime
) -> None:
    """The kept ledger, whole and group by group, is the replayed one at this moment."""
    expected = replayed_ledger(store, as_of, known_at)
    assert projector.ledger(as_of, known_at) == expected, (as_of, known_at)
    for slug, group in expected.groups.items():
        assert dict(projector.ledger(as_of, known_at, slug).groups) == {slug: group}, slug


def _pages(
    store: EventStore, known_at: datetime, town: str | None = None
) -> Iterator[list[Record]]:
    after = 0
    while page := store.select(after=after, known_at=known_at, town=town):
        yield page
        after = page[-1].position


def replayed_towns(
    store: EventStore, as_of: datetime, known_at: datetime
) -> dict[str, tuple[town.TownState, int, int]]:
    """Every town known at `known_at`: state, version and captives held, from replays."""
    known = {record.town for page in _pages(store, known_at) for record in page}
    return {
        slug: (
            replayed(store, slug, as_of, known_at),
            store.version(slug, known_at),
            replayed_held(store, slug, as_of, known_at),
        )
        for slug in sorted(known)
    }


def kept_towns(
    projector: Projector, as_of: datetime, known_at: datetime
) -> dict[str, tuple[town.TownState, int, int]]:
    """Every town known at `known_at` as the projector reads them all at once."""
    return {
        kept.state.town: (kept.state, kept.version, kept.captives_held)
        for kept in projector.every_town(as_of, known_at)
    }


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
    body["fatalities"] = {"low": arrival.recount, "best": arrival.recount, "high": arrival.recount}
    if "count" in body:
        body["count"] = arrival.recount
    if "group" in body and arrival.regroup not in (None, body.get("new_group")):
        body["group"] = arrival.regroup
    if target.kind == "captives.taken" and arrival.rehouse is not None:
        body["held_at"] = arrival.rehouse
    return correction(target.id, body)
