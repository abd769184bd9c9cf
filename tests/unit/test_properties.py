"""Invariants over any history: replay is deterministic and late reports land in their place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.codec import decode_event, encode_body
from events.errors import VersionConflict
from events.kinds import ReportedEvent
from events.memory import InMemoryStore
from events.snapshots import InMemorySnapshots
from events.store import MAX_PAGE, Pending
from projections import captives, town
from projections.keeping import Projector
from projections.replay import facts, fold
from service.reads import Moment, Reads
from tests.clock import FakeClock
from tests.keeping import Arrival, arrivals, play
from tests.make import record, retraction
from tests.strategies import TOWNS, histories, instants, reported_events


@given(reported_events())
def test_every_event_round_trips_through_the_codec(sent: ReportedEvent) -> None:
    assert sent.id is not None

    decoded = decode_event(sent.kind, str(sent.id), sent.town, encode_body(sent))

    assert decoded == sent


@given(arrivals(max_size=8))
def test_every_recorded_event_is_what_decoding_its_stored_row_gives(script: list[Arrival]) -> None:
    # The SQL store keeps the events it appended for its process's reads instead
    # of decoding their rows again, so the two must be equal: amendments too,
    # with the fields the store sets on them.
    clock = FakeClock()
    store = InMemoryStore(clock)
    play(store, [Projector(store, InMemorySnapshots(store))], clock, script)

    for kept in store.select(limit=MAX_PAGE):
        event = kept.event
        decoded = decode_event(event.kind, str(kept.id), kept.town, encode_body(event))

        assert decoded == event


@given(histories(), st.randoms())
def test_replay_does_not_depend_on_the_order_records_are_read(
    history: list[ReportedEvent], rng: Any
) -> None:
    records = [record(e, position) for position, e in enumerate(history, 1)]
    shuffled = records[:]
    rng.shuffle(shuffled)

    for slug in TOWNS:
        state = town.TownState(slug)
        mine = [r for r in records if r.town == slug]
        theirs = [r for r in shuffled if r.town == slug]
        assert fold(state, town.evolve, facts(mine)) == fold(state, town.evolve, facts(theirs))
    ledger = captives.empty_ledger()
    assert fold(ledger, captives.evolve, facts(records)) == fold(
        ledger, captives.evolve, facts(shuffled)
    )


@given(histories(), st.integers(min_value=0, max_value=25))
def test_catching_up_on_reports_that_arrive_in_occurred_order_equals_a_full_replay(
    history: list[ReportedEvent], split: int
) -> None:
    in_order = sorted(history, key=lambda e: e.occurred_at)
    records = [record(e, position) for position, e in enumerate(in_order, 1)]
    known_then, arrived_since = records[:split], records[split:]
    empty = captives.empty_ledger()

    town_then = fold(town.TownState("karak-sharqi"), town.evolve, facts(known_then))
    ledger_then = fold(empty, captives.evolve, facts(known_then))

    assert fold(town_then, town.evolve, facts(arrived_since)) == fold(
        town.TownState("karak-sharqi"), town.evolve, facts(records)
    )
    assert fold(ledger_then, captives.evolve, facts(arrived_since)) == fold(
        empty, captives.evolve, facts(records)
    )


def _read_everything(history: list[ReportedEvent], as_of: datetime) -> dict[str, Any]:
    clock = FakeClock()
    store = InMemoryStore(clock)
    for sent in history:
        clock.advance(seconds=1)
        store.append([Pending(sent)], "reporter")
    struck = history[len(history) // 2].id
    assert struck is not None
    store.append([Pending(retraction(struck))], "editor")
    reads, at = Reads(store), Moment(as_of, clock.now)
    towns = {
        view.state.town: (view.state, view.version, view.captives_held) for view in reads.towns(at)
    }
    return {"towns": towns, "ledger": reads.captives(at)}


@given(histories(max_size=15), st.randoms(), instants)
def test_the_state_as_of_any_moment_does_not_depend_on_arrival_order(
    history: list[ReportedEvent], rng: Any, as_of: datetime
) -> None:
    arrived_otherwise = history[:]
    rng.shuffle(arrived_otherwise)
    # The same report is retracted either way: the middle one of the first order.
    middle = history[len(history) // 2]
    arrived_otherwise.remove(middle)
    arrived_otherwise.insert(len(history) // 2, middle)

    assert _read_everything(history, as_of) == _read_everything(arrived_otherwise, as_of)


@given(histories(max_size=10), st.integers(min_value=0, max_value=20), reported_events())
def test_a_stale_expected_version_changes_nothing(
    history: list[ReportedEvent], stale: int, late: ReportedEvent
) -> None:
    store = InMemoryStore(FakeClock())
    for sent in history:
        store.append([Pending(sent)], "reporter")
    current = store.version(late.town)
    before = store.select()

    if stale == current:
        stale += 1
    with pytest.raises(VersionConflict):
        store.append([Pending(late, expected_version=stale)], "reporter")

    assert store.select() == before
    assert store.version(late.town) == current


@given(histories(), st.lists(st.integers(min_value=0, max_value=25), max_size=4))
def test_folding_in_pieces_with_the_lists_and_the_dead_set_aside_gives_the_whole_fold(
    history: list[ReportedEvent], cuts: list[int]
) -> None:
    records = [record(e, position) for position, e in enumerate(history, 1)]

    for slug in TOWNS:
        ordered = facts([r for r in records if r.town == slug])
        state, set_aside, dead = town.TownState(slug), [], town.ZERO
        for n, fact in enumerate(ordered):
            if n in cuts:
                state, listed, segment = town.split(state)
                set_aside.append(listed)
                dead = town.added(dead, segment)
            state = town.evolve(state, fact)

        assert town.joined(state, set_aside, dead) == fold(
            town.TownState(slug), town.evolve, ordered
        )
