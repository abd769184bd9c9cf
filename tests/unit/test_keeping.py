"""The kept town snapshots answer every moment exactly as a replay of the log would."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from events.memory import InMemoryStore
from events.snapshots import InMemorySnapshots
from projections.holdings import Holdings
from projections.keeping import Projector
from tests.clock import FakeClock
from tests.keeping import (
    Arrival,
    arrivals,
    kept_towns,
    moments,
    play,
    replayed,
    replayed_held,
    replayed_towns,
)
from tests.strategies import TOWNS, instants


def _kept(
    script: list[Arrival], every: int, processes: int = 1
) -> tuple[InMemoryStore, Projector, datetime]:
    clock = FakeClock()
    start = clock.now
    store = InMemoryStore(clock)
    snapshots = InMemorySnapshots(store)
    projectors = [
        Projector(
            store,
            snapshots,
            every,
            Holdings(snapshots.captive_records, point_every=every, points_kept=2),
        )
        for _ in range(processes)
    ]
    play(store, projectors, clock, script)
    return store, projectors[0], start


@settings(max_examples=300)  # the invariant everything else rests on; in memory it is quick
@given(
    arrivals(),
    st.integers(1, 4),
    st.integers(1, 2),
    st.lists(instants, min_size=1, max_size=4),
)
def test_kept_towns_equal_a_replay_at_every_moment_whatever_the_arrival_order(
    script: list[Arrival], every: int, processes: int, as_ofs: list[datetime]
) -> None:
    store, projector, start = _kept(script, every, processes)

    for known_at in moments(start, script):
        for as_of in as_ofs:
            for slug in TOWNS:
                expected = replayed(store, slug, as_of, known_at)
                assert projector.town(slug, as_of, known_at) == expected, (slug, as_of, known_at)
                held = projector.captives_held(slug, as_of, known_at)
                assert held == replayed_held(store, slug, as_of, known_at), (slug, as_of, known_at)
            everyone = replayed_towns(store, as_of, known_at)
            assert kept_towns(projector, as_of, known_at) == everyone, (as_of, known_at)


@given(arrivals(max_size=12), st.integers(1, 3))
def test_rebuilding_the_snapshots_changes_no_answer(script: list[Arrival], every: int) -> None:
    _, projector, start = _kept(script, every)
    asked = [(slug, at, at) for slug in TOWNS for at in moments(start, script)]
    before = [projector.town(*question) for question in asked]

    projector.rebuild()

    assert [projector.town(*question) for question in asked] == before
