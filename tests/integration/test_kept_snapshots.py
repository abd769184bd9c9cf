"""On SQLite and PostgreSQL too, the kept town snapshots answer every moment as a replay would."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.snapshots import Update
from events.sql import SqlEventStore, SqlSnapshots, connect
from events.store import Pending
from projections.keeping import Projector
from tests.clock import FakeClock
from tests.conftest import empty_postgres
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
from tests.make import REBELS, TOWN, event
from tests.strategies import TOWNS, instants

Opened = tuple[SqlEventStore, SqlSnapshots, FakeClock]
Fresh = Callable[[], AbstractContextManager[Opened]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh(request: pytest.FixtureRequest) -> Fresh:
    """Opens an empty database of the backend under test, once per hypothesis example."""
    server = None if request.param == "sqlite" else request.getfixturevalue("postgres_server")

    @contextmanager
    def opened() -> Iterator[Opened]:
        with tempfile.TemporaryDirectory() as folder:
            url = server or f"sqlite:///{Path(folder) / 'sitrep.db'}"
            if server is not None:
                empty_postgres(server)
            engine = connect(url)
            clock = FakeClock()
            store = SqlEventStore(engine, clock)
            try:
                yield store, SqlSnapshots(store), clock
            finally:
                engine.dispose()

    return opened


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arrivals(max_size=12), st.integers(1, 3), st.lists(instants, min_size=1, max_size=3))
def test_kept_towns_equal_a_replay_at_every_moment(
    fresh: Fresh, script: list[Arrival], every: int, as_ofs: list[datetime]
) -> None:
    with fresh() as (store, snapshots, clock):
        start = clock.now
        projector = Projector(store, snapshots, every=every)

        play(store, [projector, Projector(store, snapshots, every=every)], clock, script)

        for known_at in moments(start, script):
            for as_of in as_ofs:
                for slug in TOWNS:
                    expected = replayed(store, slug, as_of, known_at)
                    assert projector.town(slug, as_of, known_at) == expected
                    held = projector.captives_held(slug, as_of, known_at)
                    assert held == replayed_held(store, slug, as_of, known_at)
                everyone = replayed_towns(store, as_of, known_at)
                assert kept_towns(projector, as_of, known_at) == everyone


def test_a_stale_update_changes_nothing_and_its_projector_starts_again(fresh: Fresh) -> None:
    with fresh() as (store, snapshots, clock):
        store.append(
            [Pending(event("town.registered", name="Karak", province="Daraa"))], "reporter"
        )
        ours, theirs = Projector(store, snapshots, every=1), Projector(store, snapshots, every=1)
        theirs.catch_up()
        clock.advance(seconds=1)
        store.append([Pending(event("control.changed", controller=REBELS, mode="armed"))], "r")

        stale = snapshots.save(Update(after=0, through=2))
        folded = ours.catch_up()

        assert stale is False
        assert (folded, snapshots.checkpoint()) == (1, 2)
        now = clock.now
        assert ours.town(TOWN, now, now) == replayed(store, TOWN, now, now)
        assert ours.town(TOWN, now, now).controller is not None
