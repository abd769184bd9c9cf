"""The kept town snapshots answer every moment exactly as a replay of the log would."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.memory import InMemoryStore
from events.snapshots import InMemorySnapshots
from projections import keeping
from projections.holdings import Holdings
from projections.keeping import Projector
from tests.clock import FakeClock
from tests.keeping import (
    Arrival,
    arrivals,
    assert_ledger_kept_as_replayed,
    kept_towns,
    moments,
    play,
    projectors,
    replayed_towns,
)
from tests.strategies import CAPTIVE, instants


def _kept(
    script: list[Arrival], every: int, processes: int = 1, rebuild_after: int | None = None
) -> tuple[InMemoryStore, Projector, datetime]:
    clock = FakeClock()
    start = clock.now
    store = InMemoryStore(clock)
    snapshots = InMemorySnapshots(store)
    processes_ = projectors(store, snapshots, every, processes)
    play(store, processes_, clock, script, rebuild_after)
    return store, processes_[0], start


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
            everyone = replayed_towns(store, as_of, known_at)
            assert kept_towns(projector, as_of, known_at) == everyone, (as_of, known_at)
            for slug, expected in everyone.items():
                kept = projector.town(slug, as_of, known_at)
                assert (kept.state, kept.version, kept.captives_held) == expected, (slug, as_of)
            assert_ledger_kept_as_replayed(projector, store, as_of, known_at)


@settings(max_examples=200)
@given(
    arrivals(max_size=24),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 4),
    st.data(),
)
def test_a_process_that_starts_late_folds_the_ledger_page_by_page_as_a_replay_would(
    script: list[Arrival], every: int, kept: int, page: int, data: st.DataObject
) -> None:
    clock = FakeClock()
    start = clock.now
    store = InMemoryStore(clock)
    snapshots = InMemorySnapshots(store)
    first = Projector(store, snapshots)
    # Its first captive step fills memory from the kept entries and the last facts, `page`
    # reports at a time; later steps refold from the few states it keeps, or regroup.
    paged = Holdings(snapshots, point_every=every, points_kept=kept, page=page)
    late = Projector(store, snapshots, holdings=paged)

    play(store, [first, late], clock, script, others_from=data.draw(st.integers(0, len(script))))
    late.catch_up()

    as_of = data.draw(instants)
    for known_at in moments(start, script):
        assert_ledger_kept_as_replayed(late, store, as_of, known_at)
        for slug, (_, _, held) in replayed_towns(store, as_of, known_at).items():
            assert late.town(slug, as_of, known_at).captives_held == held, slug


@settings(max_examples=100)
@given(
    arrivals(max_size=30, kinds=CAPTIVE),
    st.integers(1, 2),
    st.integers(1, 2),
    st.integers(1, 2),
)
def test_captive_reports_amended_before_every_state_in_memory_fold_as_a_replay_would(
    script: list[Arrival], every: int, kept: int, processes: int
) -> None:
    # Dense captive histories and few states in memory: most late or amended reports fold
    # before all of them, so only the groups they touch fold again. Asked just after
    # every report's time, as first sent and as moved.
    times = [a.report.occurred_at for a in script if a.report is not None]
    times += [a.moved_to for a in script if a.moved_to is not None]
    as_ofs = sorted({moment + timedelta(seconds=1) for moment in times})
    clock = FakeClock()
    start = clock.now
    store = InMemoryStore(clock)
    snapshots = InMemorySnapshots(store)
    processes_ = [
        Projector(
            store, snapshots, holdings=Holdings(snapshots, point_every=every, points_kept=kept)
        )
        for _ in range(processes)
    ]
    play(store, processes_, clock, script)

    for known_at in moments(start, script):
        for as_of in as_ofs:
            assert_ledger_kept_as_replayed(processes_[0], store, as_of, known_at)
            for slug, (_, _, held) in replayed_towns(store, as_of, known_at).items():
                assert processes_[0].town(slug, as_of, known_at).captives_held == held, slug


@given(arrivals(max_size=12), st.integers(1, 3), instants)
def test_a_rebuild_from_the_log_answers_every_moment_as_a_replay(
    script: list[Arrival], every: int, as_of: datetime
) -> None:
    store, projector, start = _kept(script, every)

    projector.rebuild()

    for known_at in moments(start, script):
        assert kept_towns(projector, as_of, known_at) == replayed_towns(store, as_of, known_at)
        assert_ledger_kept_as_replayed(projector, store, as_of, known_at)


@settings(max_examples=150)
@given(arrivals(max_size=12), st.integers(1, 3), st.integers(0, 24), instants)
def test_a_rebuild_by_another_process_midway_leaves_every_moment_as_a_replay(
    script: list[Arrival], every: int, rebuild_after: int, as_of: datetime
) -> None:
    # The first projector keeps its towns in memory across the other's rebuild.
    store, projector, start = _kept(script, every, processes=2, rebuild_after=rebuild_after)

    for known_at in moments(start, script):
        everyone = replayed_towns(store, as_of, known_at)
        assert kept_towns(projector, as_of, known_at) == everyone, known_at
        for slug, expected in everyone.items():
            kept = projector.town(slug, as_of, known_at)
            assert (kept.state, kept.version, kept.captives_held) == expected, slug
        assert_ledger_kept_as_replayed(projector, store, as_of, known_at)


@settings(max_examples=200)
@given(
    arrivals(max_size=16),
    st.integers(1, 3),
    st.integers(1, 2),
    st.integers(1, 2),
    st.integers(0, 1),
    st.lists(instants, min_size=1, max_size=3),
)
def test_a_projector_that_keeps_and_reads_back_little_still_answers_every_moment_as_a_replay(
    script: list[Arrival],
    every: int,
    kept: int,
    ahead: int,
    retries: int,
    as_ofs: list[datetime],
) -> None:
    # Few snapshots in memory and few read back: old amendments read back
    # stretches that do not meet, refolds run past them, towns read it all.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keeping, "KEPT", kept)
        patch.setattr(keeping, "AHEAD", ahead)
        patch.setattr(keeping, "RETRIES", retries)
        store, projector, start = _kept(script, every, processes=2)

        for known_at in moments(start, script):
            for as_of in as_ofs:
                everyone = replayed_towns(store, as_of, known_at)
                assert kept_towns(projector, as_of, known_at) == everyone, (as_of, known_at)
