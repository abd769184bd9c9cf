"""On SQLite and PostgreSQL too, the kept town snapshots answer every moment as a replay would."""

from __future__ import annotations

import random
import string
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete as sql_delete
from sqlalchemy import event as sql_event
from sqlalchemy import func, select

from events.kinds import ReportedEvent
from events.snapshots import InMemorySnapshots, Update
from events.sql import SqlEventStore, SqlSnapshots, connect, read_back
from events.sql import snapshots as sql_snapshots
from events.sql.schema import FOREVER, captives_held
from events.sql.schema import snapshots as snapshots_table
from events.store import Appended, Pending
from projections import keeping
from projections.holdings import Holdings
from projections.keeping import Projector
from tests.clock import FakeClock
from tests.conftest import empty_postgres
from tests.keeping import (
    Arrival,
    arrivals,
    assert_ledger_kept_as_replayed,
    kept_towns,
    moments,
    play,
    projectors,
    replayed,
    replayed_towns,
)
from tests.make import AFI, EIGHTH, REBELS, TOWN, at, correction, event, replacement, retraction
from tests.steps import steps_counted
from tests.strategies import CAPTIVE, GROUPS, instants

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

        # The other process folds its ledger from the log's start `every` reports at a time,
        # keeping few ledger states, so it keeps only its last pages' records.
        paged = Holdings(snapshots, point_every=every, points_kept=1, page=every)
        other = Projector(store, snapshots, every=every, holdings=paged)
        play(store, [projector, other], clock, script)

        for known_at in moments(start, script):
            for as_of in as_ofs:
                everyone = replayed_towns(store, as_of, known_at)
                assert kept_towns(projector, as_of, known_at) == everyone
                for slug, expected in everyone.items():
                    kept = projector.town(slug, as_of, known_at)
                    assert (kept.state, kept.version, kept.captives_held) == expected
                assert_ledger_kept_as_replayed(projector, store, as_of, known_at)


@settings(
    max_examples=15,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)
@given(
    arrivals(max_size=12),
    st.integers(1, 3),
    st.integers(1, 3),
    st.one_of(st.none(), st.integers(0, 24)),
    st.integers(1, 2),
    instants,
)
def test_small_steps_two_processes_and_a_rebuild_midway_answer_every_moment_as_a_replay(
    fresh: Fresh,
    script: list[Arrival],
    every: int,
    step: int,
    rebuild_after: int | None,
    kept: int,
    as_of: datetime,
) -> None:
    # Steps of `step` records split the batches; what each step writes beside the
    # snapshots (town_reports, town_versions) must agree with a replay at every moment.
    with fresh() as (store, snapshots, clock), pytest.MonkeyPatch.context() as patch:
        patch.setattr(keeping, "MAX_PAGE", 1)
        patch.setattr(keeping, "PAGES_PER_STEP", step)
        patch.setattr(keeping, "KEPT", kept)
        start = clock.now
        first, second = projectors(store, snapshots, every, 2)
        play(store, [first, second], clock, script, rebuild_after)

        for known_at in moments(start, script):
            everyone = replayed_towns(store, as_of, known_at)
            assert kept_towns(first, as_of, known_at) == everyone, known_at
            for slug, expected in everyone.items():
                kept_town = first.town(slug, as_of, known_at)
                read = (kept_town.state, kept_town.version, kept_town.captives_held)
                assert read == expected, (slug, known_at)


def test_a_report_moved_twice_to_one_day_folds_once_in_every_read(fresh: Fresh) -> None:
    with fresh() as (store, snapshots, clock):
        clash = event("clash", id=str(uuid4()), occurred_at="2020-03-10T10:00:00Z", sides=[REBELS])
        assert clash.id is not None
        store.append([Pending(clash)], "reporter")
        for dead in (5, 7):
            clock.advance(seconds=1)
            fixed = replacement(
                "clash", occurred_at="2020-03-05T10:00:00Z", sides=[REBELS], fatalities=_dead(dead)
            )
            store.append([Pending(correction(clash.id, fixed))], "editor")
        projector = Projector(store, snapshots, every=1)
        projector.catch_up()
        as_of, now = at("2020-03-07T00:00:00Z"), clock.now

        everyone = kept_towns(projector, as_of, now)

        assert everyone == replayed_towns(store, as_of, now)
        assert everyone[TOWN][0].fatalities.best == 7


def test_a_read_before_the_projector_folds_an_append_answers_as_before_it(fresh: Fresh) -> None:
    with fresh() as (store, snapshots, clock):
        days = [
            event(
                "clash",
                id=str(uuid4()),
                occurred_at=f"2020-03-0{day}T10:00:00Z",
                sides=[REBELS],
                fatalities=_dead(1),
            )
            for day in (1, 2, 3)
        ]
        store.append([Pending(day) for day in days], "reporter")
        projector = Projector(store, snapshots, every=2)
        projector.catch_up()
        before = clock.now
        clock.advance(seconds=1)
        assert days[2].id is not None
        moved = replacement(
            "clash", occurred_at="2020-03-01T12:00:00Z", sides=[REBELS], fatalities=_dead(1)
        )
        store.append([Pending(correction(days[2].id, moved))], "editor")  # not folded yet

        kept = projector.town(TOWN, at("2020-03-04T00:00:00Z"), clock.now)

        assert kept.state == replayed(store, TOWN, at("2020-03-04T00:00:00Z"), before)
        assert kept.state.fatalities.best == 3


def test_reading_more_towns_and_tails_than_one_query_takes_answers_as_a_replay(
    fresh: Fresh,
) -> None:
    with fresh() as (store, snapshots, clock):
        towns = [f"town-{n:03d}" for n in range(150)]
        store.append(
            [_clash(town, day, dead=day) for day in range(1, 9) for town in towns], "importer"
        )
        projector = Projector(store, snapshots, every=5_000)  # no snapshot: every tail is long
        projector.catch_up()
        as_of, now = at("2020-03-06T00:00:00Z"), clock.now

        everyone = kept_towns(projector, as_of, now)

        assert everyone == replayed_towns(store, as_of, now)
        assert len(everyone) == 150


def test_late_reports_in_more_towns_than_one_read_back_takes_refold_each_as_a_replay(
    fresh: Fresh, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_back, "_TOWNS_PER_QUERY", 4)
    with fresh() as (store, snapshots, clock):
        towns = [f"town-{n:02d}" for n in range(10)]
        projector = Projector(store, snapshots, every=1)
        third: list[Appended] = []
        for day in (1, 3, 2, 4):  # those of the 2nd arrive after the snapshots of the 3rd,
            outcomes = store.append(
                [_clash(town, day, dead=day * 10 + n) for n, town in enumerate(towns)], "importer"
            )
            third = outcomes if day == 3 else third
            if day == 2:  # with corrections that move each town's clash of the 3rd before them
                moved = replacement(
                    "clash", occurred_at="2020-03-02T09:00:00Z", sides=[REBELS], fatalities=_dead(1)
                )
                store.append([Pending(correction(o.record.id, moved)) for o in third], "editor")
            clock.advance(seconds=1)
            projector.catch_up()
        as_of, now = at("2020-03-04T12:00:00Z"), clock.now

        everyone = kept_towns(projector, as_of, now)

        assert everyone == replayed_towns(store, as_of, now)
        assert [state.fatalities.best for state, _, _ in everyone.values()] == [
            71 + 3 * n for n in range(10)
        ]


def test_correcting_an_old_report_ends_only_the_snapshots_near_it(fresh: Fresh) -> None:
    with fresh() as (store, snapshots, clock):
        clashes = [_clash(TOWN, 1, dead=1, hour=hour) for hour in range(1, 121)]
        outcomes = store.append(clashes, "importer")
        projector = Projector(store, snapshots, every=4)
        projector.catch_up()
        before, ended_before = clock.now, _ended(store)
        clock.advance(seconds=1)
        old = outcomes[4].record  # the clash at 05:00 on the first of March
        fixed = replacement(
            "clash", occurred_at=_hours_in(1, 5), sides=[REBELS], fatalities=_dead(11)
        )
        store.append([Pending(correction(old.id, fixed))], "editor")

        projector.catch_up()

        assert _ended(store) - ended_before <= 3  # not the 30 or so after it
        for moment in (before, clock.now):
            for as_of in (at("2020-03-01T03:00:00Z"), at("2020-03-06T00:00:00Z")):
                kept = projector.town(TOWN, as_of, moment)
                assert kept.state == replayed(store, TOWN, as_of, moment)
        dead = projector.town(TOWN, clock.now, clock.now).state.fatalities
        assert (dead.best, type(dead.best)) == (130, int)  # summed, still a whole number
        assert projector.town(TOWN, clock.now, before).state.fatalities.best == 120


def test_reading_back_an_old_stretch_takes_only_the_few_snapshots_after_it(fresh: Fresh) -> None:
    with fresh() as (store, snapshots, _clock):
        outcomes = store.append(
            [_clash(TOWN, 1, dead=1, hour=h) for h in range(1, 121)], "importer"
        )
        Projector(store, snapshots, every=4).catch_up()
        old = outcomes[4].record
        assert old.event.occurred_at is not None
        start = (old.event.occurred_at, old.position)
        through = snapshots.checkpoint()

        piece = snapshots.read_back({TOWN: start}, through, {}, ahead=3)[TOWN]
        whole = snapshots.read_back({TOWN: start}, through, {}, ahead=None)[TOWN]

        assert (piece.whole, whole.whole) == (False, True)
        assert len(whole.later) > 20  # the history runs on well past the piece
        assert [s.key for s in piece.later] == [s.key for s in whole.later[:3]]
        assert piece.snapshot == whole.snapshot
        assert piece.snapshot is not None
        assert piece.snapshot.key < start <= piece.later[0].key
        last = piece.later[-1].key[0]
        assert sorted(r.position for r in piece.records) == sorted(
            r.position for r in whole.records if r.event.occurred_at and r.event.occurred_at <= last
        )


def test_a_town_with_an_agreement_as_long_as_the_limits_allow_is_kept(fresh: Fresh) -> None:
    # Random letters, which do not compress: an index entry holding them would be
    # over the 2,704 bytes PostgreSQL takes, and the projector could not save.
    detail = "".join(random.Random(1).choices(string.ascii_letters, k=10_000))
    deal = event(
        "agreement.reached",
        agreement="deal-1",
        parties=[REBELS, AFI],
        terms=[{"type": "ceasefire", "detail": detail}],
    )
    with fresh() as (store, snapshots, clock):
        store.append([Pending(deal)], "desk")
        projector = Projector(store, snapshots, every=1)  # a snapshot on that fact

        assert projector.catch_up() == 1

        kept = projector.town(TOWN, at("2031-01-01T00:00:00Z"), clock.now)
        assert [a.terms[0].detail for a in kept.state.agreements] == [detail]


def test_a_read_of_what_was_known_early_costs_no_more_as_the_town_s_history_grows(
    sqlite_url: str, clock: FakeClock
) -> None:
    engine = connect(sqlite_url)
    store = SqlEventStore(engine, clock)
    projector = Projector(store, SqlSnapshots(store), every=4)
    steps = steps_counted(engine)
    try:
        for hour in range(1, 11):
            clock.advance(seconds=1)
            store.append([_clash(TOWN, 1, dead=1, hour=hour)], "importer")
        early = clock.now
        as_of = at("2030-01-01T00:00:00Z")  # long after all of it, as a read of now is

        costs = []
        for later in (0, 300):  # reports known after `early`, on later days
            clock.advance(seconds=1)
            store.append(
                [_clash(TOWN, 2 + n % 7, dead=1, hour=n // 7) for n in range(later)], "desk"
            )
            projector.catch_up()
            steps.clear()
            kept = projector.town(TOWN, as_of, early)
            costs.append(len(steps))

        assert kept.state == replayed(store, TOWN, as_of, early)
        assert kept.state.fatalities.best == 10
        assert costs[1] <= costs[0] * 1.1, costs  # not the 300 reports it leaves out
    finally:
        engine.dispose()


def _ended(store: SqlEventStore) -> int:
    """How many snapshot versions no longer hold."""
    query = select(func.count()).where(snapshots_table.c.known_until != FOREVER)
    with store.connection() as conn:
        return int(conn.execute(query).scalar_one())


def _clash(town: str, day: int, *, dead: int, hour: int = 10) -> Pending:
    """A clash in `town` on the `day`th of March 2020 that left `dead` dead."""
    return Pending(
        event(
            "clash",
            town=town,
            occurred_at=f"2020-03-0{day}T10:00:00Z" if hour == 10 else _hours_in(day, hour),
            sides=[REBELS],
            fatalities=_dead(dead),
        )
    )


def _hours_in(day: int, hours: int) -> str:
    return (at(f"2020-03-0{day}T00:00:00Z") + timedelta(hours=hours)).isoformat()


def _dead(count: int) -> dict[str, int]:
    return {"low": count, "best": count, "high": count}


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
        assert ours.town(TOWN, now, now).state == replayed(store, TOWN, now, now)
        assert ours.town(TOWN, now, now).state.controller is not None


def test_a_step_another_process_saves_while_a_rebuild_empties_the_tables_leaves_nothing(
    fresh: Fresh, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fresh() as (store, snapshots, clock):
        service, rebuild = Projector(store, snapshots), Projector(store, snapshots)
        store.append([Pending(event("clash", town="old-town", sides=[REBELS]))], "alice")
        service.catch_up()
        clock.advance(seconds=1)
        # Appended as `sitrep rebuild` starts: the running service folds it meanwhile.
        store.append([Pending(event("clash", town="new-town", sides=[REBELS]))], "alice")
        stepping = threading.Thread(target=service.catch_up)

        def delete(table: Any) -> Any:
            if table is captives_held and not stepping.is_alive():  # the first tables emptied
                stepping.start()
                stepping.join(timeout=1)  # the service's step, saved in the middle, or waiting
            return sql_delete(table)

        monkeypatch.setattr(sql_snapshots, "delete", delete)
        rebuild.rebuild()
        stepping.join()

        now = clock.now
        for town in ("old-town", "new-town"):
            assert rebuild.town(town, now, now).state == replayed(store, town, now, now)


def test_the_kept_ledger_answers_where_a_fold_starts_from_as_the_in_memory_twin_does(
    fresh: Fresh,
) -> None:
    with fresh() as (store, snapshots, clock):
        captures = [_capture(day) for day in range(1, 7)]
        again = event(
            "captives.released", occurred_at="2020-03-03T10:00:00Z", group="group-2", count=1
        )
        store.append([Pending(capture) for capture in captures], "reporter")
        clock.advance(seconds=1)
        assert captures[3].id is not None
        split = _split("group-5", "2020-03-05T12:00:00Z")  # two entries at one key
        store.append(
            [Pending(again), Pending(split), Pending(retraction(captures[3].id))], "editor"
        )
        Projector(store, snapshots).catch_up()
        twin = InMemorySnapshots(store)
        Projector(store, twin).catch_up()
        through = store.select(after=0)[-1].position
        keys = sorted({entry.key for entry in twin.open_entries((at("2020-04-01T00:00:00Z"), 0))})

        for key in [*keys, (keys[0][0], keys[0][1] + 1), (keys[-1][0], keys[-1][1] + 1)]:
            assert snapshots.open_entries(key) == twin.open_entries(key)
            found = sorted(snapshots.captive_keys(through, key), key=str)
            assert found == sorted(twin.captive_keys(through, key), key=str)
        names = {entry.name for entry in twin.open_entries((at("2020-04-01T00:00:00Z"), 0))}
        assert snapshots.open_entries_of(names) == twin.open_entries_of(names)
        assert snapshots.open_entries_of({"group:group-2"}) == twin.open_entries_of(
            {"group:group-2"}
        )
        assert len(snapshots.open_entries_of({"group:group-2"})) == 2  # taken, then one released
        assert snapshots.open_held({TOWN, "nawa"}) == twin.open_held({TOWN, "nawa"})
        for count in range(1, 10):
            assert snapshots.recent_key(count) == twin.recent_key(count)
        # Seven facts: five captures, a release and a split.
        assert snapshots.recent_key(7) == (at("2020-03-01T10:00:00Z"), 1)
        assert snapshots.recent_key(8) is None


@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)
@given(arrivals(max_size=20, kinds=CAPTIVE), st.data())
def test_the_log_finds_the_reports_naming_any_groups_from_any_key_as_the_twin_does(
    fresh: Fresh, script: list[Arrival], data: st.DataObject
) -> None:
    # Corrections here move reports in time, into other groups and other towns, so the
    # reports naming a group are found by their corrections as well as by their first body.
    with fresh() as (store, snapshots, clock):
        play(store, [Projector(store, InMemorySnapshots(store))], clock, script)
        twin = InMemorySnapshots(store)
        records = store.select(after=0)
        reports = [r for r in records if r.target is None]
        keys = [(at("2020-01-01T00:00:00Z"), 0)]
        for report in reports:
            assert report.event.occurred_at is not None
            keys.append((report.event.occurred_at, report.position))
        for groups in [*({group} for group in GROUPS), set(GROUPS)]:
            through = data.draw(st.sampled_from([r.position for r in records]))
            since = data.draw(st.sampled_from(keys))
            also = data.draw(st.sets(st.sampled_from([r.id for r in reports]), max_size=2))
            also = {r.id for r in reports if r.id in also and r.position <= through}

            found = snapshots.naming(groups, through, since, also)

            assert found == twin.naming(groups, through, since, also)


def test_a_captive_report_and_a_correction_holding_a_nul_character_are_stored_and_found(
    fresh: Fresh,
) -> None:
    # U+0000 is valid in JSON text; PostgreSQL's JSONB refuses it, so no index of the
    # log may parse the stored bodies as JSONB.
    with fresh() as (store, snapshots, _):
        capture = _capture(1, notes="seen at the\u0000checkpoint")
        [taken] = store.append([Pending(capture)], "reporter")
        fixed = replacement(
            "captives.taken",
            occurred_at="2020-03-01T10:00:00Z",
            group="group-1",
            captor=REBELS,
            count=2,
            affiliation=AFI,
            notes="two, not one\u0000",
        )
        [corrected] = store.append([Pending(correction(taken.record.id, fixed))], "editor")

        found = snapshots.naming({"group-1"}, corrected.record.position, (at("2020-01-01"), 0))

        assert [r.id for r in found] == [taken.record.id, corrected.record.id]
        assert found[0].event == capture


def test_the_log_leads_from_captive_groups_to_the_reports_that_name_them_as_the_twin_does(
    fresh: Fresh,
) -> None:
    with fresh() as (store, snapshots, clock):
        captures = [_capture(day) for day in range(1, 7)]
        split = _split("group-5", "2020-03-05T12:00:00Z")
        store.append([Pending(report) for report in [*captures, split]], "reporter")
        clock.advance(seconds=1)
        ids = [capture.id for capture in captures if capture.id is not None]
        # The capture of 2 March becomes one of a new group on 6 March; that of 4 March goes.
        moved = replacement(
            "captives.taken",
            occurred_at="2020-03-06T18:00:00Z",
            group="renamed",
            captor=REBELS,
            count=2,
            affiliation=AFI,
        )
        store.append([Pending(correction(ids[1], moved)), Pending(retraction(ids[3]))], "editor")
        through = store.select(after=0)[-1].position
        twin = InMemorySnapshots(store)
        asked: list[tuple[set[str], tuple[datetime, int], set[Any]]] = [
            ({"group-1", "handed-over"}, (at("2020-03-01T00:00:00Z"), 0), set()),
            ({"group-5"}, (at("2020-03-05T11:00:00Z"), 0), set()),
            ({"renamed"}, (at("2020-03-06T00:00:00Z"), 0), set()),
            ({"group-2"}, (at("2020-03-01T00:00:00Z"), 0), set()),
            ({"group-2"}, (at("2020-03-03T00:00:00Z"), 0), set()),
            ({"group-4"}, (at("2020-03-01T00:00:00Z"), 0), set()),
            (set(), (at("2020-03-01T00:00:00Z"), 0), {ids[0], ids[3]}),
        ]

        found = [
            {r.id for r in snapshots.naming(groups, through, since, also)}
            for groups, since, also in asked
        ]

        for (groups, since, also), ours in zip(asked, found, strict=True):
            assert ours == {r.id for r in twin.naming(groups, through, since, also)}
        corrected, retracted = store.select(after=through - 2)
        assert found[0] == {ids[0], split.id}
        assert found[1] == {split.id}  # the capture of group-5 came before
        assert found[2] == {ids[1], corrected.id}  # named so only by its correction
        assert found[3] == {ids[1], corrected.id}  # first recorded on 2 March as group-2
        assert found[4] == set()  # ... which is before the 3rd
        assert found[5] == {ids[3], retracted.id}  # retracted, yet as first recorded
        assert found[6] == {ids[0], ids[3], retracted.id}


def test_an_amendment_of_an_old_captive_report_rewrites_only_its_groups_as_a_replay_would(
    fresh: Fresh,
) -> None:
    with fresh() as (store, snapshots, clock):
        captures = [_capture(day, held_at="nawa" if day % 2 else TOWN) for day in range(1, 21)]
        split = _split("group-3", "2020-03-15T12:00:00Z")
        nawa = event(
            "town.registered",
            town="nawa",
            occurred_at="2020-03-01T00:00:00Z",
            name="Nawa",
            province="Daraa",
        )  # so that its captives held are read, and compared
        history = [nawa, *captures, split]
        store.append([Pending(one) for one in history], "reporter")
        holdings = Holdings(snapshots, point_every=2, points_kept=2)
        ours = Projector(store, snapshots, holdings=holdings)
        ours.catch_up()
        start = clock.now
        assert captures[2].id is not None
        fewer = replacement(
            "captives.taken",
            occurred_at="2020-03-03T10:00:00Z",
            group="group-3",
            captor=REBELS,
            count=1,
            affiliation=AFI,
            held_at=TOWN,  # held elsewhere: Nawa's rows from the capture on must all change
        )
        clock.advance(seconds=1)
        store.append([Pending(correction(captures[2].id, fewer))], "editor")

        ours.catch_up()  # group-3 and the group split from it fold again, alone

        for known_at in (start, clock.now):
            for day in (2, 3, 10, 15, 16, 21):
                as_of = at(f"2020-03-{day:02d}T23:00:00Z")
                assert kept_towns(ours, as_of, known_at) == replayed_towns(store, as_of, known_at)
                assert_ledger_kept_as_replayed(ours, store, as_of, known_at)


def test_an_old_captive_amendment_reads_and_cuts_only_its_towns_and_groups_rows_on_sqlite(
    tmp_path: Path,
) -> None:
    # The regroup's statements about a few towns or names must lead with them: by the
    # index of every open row they walked the whole ledger from the key on.
    engine = connect(f"sqlite:///{tmp_path / 'sitrep.db'}")
    clock = FakeClock()
    store = SqlEventStore(engine, clock)
    snapshots = SqlSnapshots(store)
    captures = [_capture(day) for day in range(1, 11)]
    store.append([Pending(capture) for capture in captures], "reporter")
    ours = Projector(store, snapshots, holdings=Holdings(snapshots, point_every=1, points_kept=1))
    ours.catch_up()
    assert captures[0].id is not None
    clock.advance(seconds=1)
    store.append([Pending(retraction(captures[0].id))], "editor")
    scoped: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "known_until + 0" in statement:
            scoped.append((statement, params))

    sql_event.listen(engine, "before_cursor_execute", keep)
    ours.catch_up()
    sql_event.remove(engine, "before_cursor_execute", keep)
    raw = engine.raw_connection()
    try:
        plans = [
            str(raw.cursor().execute(f"EXPLAIN QUERY PLAN {statement}", params).fetchall())
            for statement, params in scoped
        ]
    finally:
        raw.close()
        engine.dispose()

    assert len(plans) >= 4  # the group's entries and the town's rows, read and cut
    for plan in plans:
        assert "_open" not in plan, plan
        assert "autoindex" in plan, plan  # the table's own key: town or name first


def _split(group: str, occurred_at: str) -> ReportedEvent:
    """Two of `group` handed to a neutral unit as the group `handed-over`."""
    return event(
        "captives.transferred",
        id=str(uuid4()),
        occurred_at=occurred_at,
        group=group,
        to=EIGHTH,
        role="neutral",
        count=2,
        new_group="handed-over",
    )


def _capture(day: int, **fields: Any) -> ReportedEvent:
    """The capture of `group-{day}`, of `day` captives, on that day of March 2020."""
    return event(
        "captives.taken",
        id=str(uuid4()),
        occurred_at=f"2020-03-{day:02d}T10:00:00Z",
        group=f"group-{day}",
        captor=REBELS,
        count=day,
        affiliation=AFI,
        **fields,
    )
