"""What the database itself guarantees: one winner per version, one event per id, no edits."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from events.errors import BatchRejected, IdConflict, SitrepError, VersionConflict
from events.grouping import Request
from events.sql import SqlEventStore, connect
from events.sql.bulk import COPY_FROM
from events.sql.every_town import _Statements
from events.sql.json_list import json_list
from events.sql.store import _AMENDMENTS_OF, _BY_IDS, _VERSIONS, TransactionView
from events.store import Appended, Pending
from tests.clock import FakeClock
from tests.make import REBELS, event
from tests.steps import steps_counted

WRITERS = 8


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the test's database, with the schema created, disposed afterwards."""
    created = connect(database_url)
    yield created
    created.dispose()


def race(attempt: Callable[[int], Appended | Exception]) -> list[Appended | Exception]:
    """Run `attempt(i)` on WRITERS threads released at the same moment."""
    start = threading.Barrier(WRITERS)

    def run(i: int) -> Appended | Exception:
        start.wait()
        return attempt(i)

    with ThreadPoolExecutor(WRITERS) as pool:
        return list(pool.map(run, range(WRITERS)))


def test_concurrent_writers_with_one_expected_version_have_exactly_one_winner(
    engine: Engine, clock: FakeClock
) -> None:
    store = SqlEventStore(engine, clock)

    def attempt(i: int) -> Appended | Exception:
        seized = event("checkpoint.seized", checkpoint=f"post {i}", by=REBELS)
        try:
            [outcome] = store.append([Pending(seized, expected_version=0)], f"writer-{i}")
        except VersionConflict as error:
            return error
        return outcome

    for_version_1 = race(attempt)

    winners = [o for o in for_version_1 if isinstance(o, Appended)]
    assert len(winners) == 1
    assert all(
        isinstance(o, VersionConflict) and o.current == 1 for o in for_version_1 if o not in winners
    )
    assert [r.version for r in store.select(town="karak-sharqi")] == [1]


def test_the_same_id_posted_concurrently_is_stored_once(engine: Engine, clock: FakeClock) -> None:
    store = SqlEventStore(engine, clock)
    sent = event("checkpoint.seized", checkpoint="AFI post", by=REBELS).model_copy(
        update={"id": uuid4()}
    )

    outcomes = race(lambda i: store.append([Pending(sent)], f"writer-{i}")[0])

    assert all(isinstance(o, Appended) for o in outcomes)
    created = [o for o in outcomes if isinstance(o, Appended) and o.created]
    assert len(created) == 1
    assert len(store.select()) == 1


def test_concurrent_writers_on_many_towns_leave_gap_free_streams(
    engine: Engine, clock: FakeClock
) -> None:
    store = SqlEventStore(engine, clock)

    def attempt(i: int) -> Appended | Exception:
        last: Appended | Exception = RuntimeError("no append")
        for n in range(10):
            seized = event("checkpoint.seized", town=f"town-{n % 3}", checkpoint=str(i), by=REBELS)
            [last] = store.append([Pending(seized)], f"writer-{i}")
        return last

    race(attempt)

    records = store.select()
    assert [r.position for r in records] == list(range(1, WRITERS * 10 + 1))
    for town in {r.town for r in records}:
        versions = [r.version for r in store.select(town=town)]
        assert versions == list(range(1, len(versions) + 1))


def test_the_database_refuses_to_update_or_delete_an_event(
    engine: Engine, clock: FakeClock
) -> None:
    SqlEventStore(engine, clock).append(
        [Pending(event("checkpoint.seized", checkpoint="AFI post", by=REBELS))], "alice"
    )

    for statement in ("UPDATE events SET town = 'elsewhere'", "DELETE FROM events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))

    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), min(town) FROM events")).one() == (
            1,
            "karak-sharqi",
        )


def test_an_id_conflict_stores_nothing_on_disk(
    engine: Engine, database_url: str, clock: FakeClock
) -> None:
    store = SqlEventStore(engine, clock)
    sent = event("checkpoint.seized", checkpoint="AFI post", by=REBELS).model_copy(
        update={"id": uuid4()}
    )
    store.append([Pending(sent)], "alice")

    with pytest.raises(IdConflict):
        store.append([Pending(sent.model_copy(update={"checkpoint": "other"}))], "alice")

    fresh = connect(database_url)
    assert len(SqlEventStore(fresh, clock).select()) == 1
    fresh.dispose()


class StaleOnce(TransactionView):
    """A view that misses every record the first time it is asked: a writer with stale eyes."""

    blind = True

    def versions(self, towns: Collection[str]) -> dict[str, int]:
        if StaleOnce.blind:
            StaleOnce.blind = False
            return {}
        return super().versions(towns)


class StaleStore(SqlEventStore):
    view = StaleOnce


@pytest.mark.parametrize(
    "size", [1, COPY_FROM], ids=["one row", "a batch of as many rows as COPY takes"]
)
def test_a_writer_planning_on_a_stale_view_is_stopped_by_the_database(
    engine: Engine, clock: FakeClock, size: int
) -> None:
    SqlEventStore(engine, clock).append(
        [Pending(event("checkpoint.seized", checkpoint="AFI post", by=REBELS))], "alice"
    )
    StaleOnce.blind = True
    stale = StaleStore(engine, clock)
    first = Pending(event("clash", sides=[REBELS]), expected_version=0)
    rest = [Pending(event("clash", sides=[REBELS])) for _ in range(size - 1)]

    with pytest.raises(SitrepError) as refused:
        stale.append([first, *rest], "bob")

    assert not StaleOnce.blind, "the stale plan was tried, hit UNIQUE(town, version), re-planned"
    conflict = refused.value.cause if isinstance(refused.value, BatchRejected) else refused.value
    assert isinstance(conflict, VersionConflict)
    assert conflict.current == 1
    assert [r.version for r in stale.select()] == [1]


class PoisonedStore(SqlEventStore):
    """A store whose database refuses any transaction holding the 'poison' request."""

    def _commit_once(self, group: list[Request]) -> None:
        if any(request.recorded_by == "poison" for request in group):
            raise ValueError("the database refused a row")
        super()._commit_once(group)


def test_a_request_the_database_refuses_fails_alone_in_its_group(
    engine: Engine, clock: FakeClock
) -> None:
    store = PoisonedStore(engine, clock)
    group = [
        Request([Pending(event("checkpoint.seized", checkpoint=name, by=REBELS))], name)
        for name in ("alice", "poison", "bob")
    ]

    store._commit(group)

    assert [r.error is None for r in group] == [True, False, True]
    assert [r.recorded_by for r in store.select()] == ["alice", "bob"]


def test_two_logs_holding_one_event_id_each_read_back_their_own_event(
    tmp_path: Path, clock: FakeClock
) -> None:
    # A process keeps decoded events, and may open several databases at once.
    the_id = uuid4()
    north = event("checkpoint.seized", checkpoint="north gate", by=REBELS, id=str(the_id))
    south = event("checkpoint.seized", checkpoint="south gate", by=REBELS, id=str(the_id))
    engines = [connect(f"sqlite:///{tmp_path / name}") for name in ("north.db", "south.db")]
    try:
        stores = [SqlEventStore(engine, clock) for engine in engines]
        for store, sent in zip(stores, (north, south), strict=True):
            store.append([Pending(sent)], "desk")
        assert [store.get(the_id).event for store in stores] == [north, south]  # type: ignore[union-attr]
        assert [store.select()[0].event for store in stores] == [north, south]
    finally:
        for engine in engines:
            engine.dispose()


@pytest.mark.parametrize(
    ("lookup", "parameters"),
    [
        (_BY_IDS, {"ids": json_list([uuid4()])}),
        (_VERSIONS["sqlite"], {"towns": json_list(["karak-sharqi"])}),
        (_AMENDMENTS_OF, {"targets": json_list([uuid4()])}),
    ],
    ids=["ids", "versions", "amendments"],
)
def test_the_lookups_of_an_append_search_sqlite_by_index_rather_than_scan_the_log(
    sqlite_engine: Engine, lookup: Any, parameters: dict[str, str]
) -> None:
    steps = _plan(sqlite_engine, lookup, parameters)

    assert any(step.startswith("SEARCH events USING") for step in steps), steps
    assert not any(step.startswith("SCAN events") for step in steps), steps
    assert not any("events_kind_position" in step for step in steps), steps  # every such kind


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """An engine on an SQLite file of the test's own, disposed afterwards."""
    created = connect(sqlite_url)
    yield created
    created.dispose()


def test_the_version_lookup_of_an_append_costs_the_same_however_long_a_town_s_history(
    sqlite_engine: Engine, clock: FakeClock
) -> None:
    store = SqlEventStore(sqlite_engine, clock)
    steps = steps_counted(sqlite_engine)
    for town, count in (("short", 10), ("long", 300)):
        store.append(_seized(town, count), "desk")
    costs = {}
    with sqlite_engine.connect() as conn:
        for town in ("short", "long"):
            steps.clear()
            versions = TransactionView(conn).versions([town, "unknown"])
            costs[town] = len(steps)
            assert versions == {town: 10 if town == "short" else 300}

    assert costs["long"] <= costs["short"] * 1.1, costs  # not the 290 more events of it


def test_paging_a_town_s_records_costs_the_same_however_many_records_other_towns_add(
    sqlite_engine: Engine, clock: FakeClock
) -> None:
    store = SqlEventStore(sqlite_engine, clock)
    steps = steps_counted(sqlite_engine)
    store.append(_seized("short", 10), "desk")
    costs, pages = [], []
    for others in (0, 300):
        store.append(_seized("elsewhere", others), "desk")
        steps.clear()
        pages.append([(r.town, r.version) for r in store.select(after=3, town="short")])
        costs.append(len(steps))

    assert pages[0] == pages[1] == [("short", version) for version in range(4, 11)]
    assert costs[1] <= costs[0] * 1.1, costs  # not the 300 records of the other town


def _seized(town: str, count: int) -> list[Pending]:
    """`count` checkpoints of `town` seized, one after another."""
    gates = [{"checkpoint": f"gate {n}", "by": REBELS} for n in range(count)]
    return [Pending(event("checkpoint.seized", town=town, **gate)) for gate in gates]


def test_a_page_deep_in_a_town_s_stream_costs_what_its_first_page_does(
    sqlite_engine: Engine, clock: FakeClock
) -> None:
    store = SqlEventStore(sqlite_engine, clock)
    steps = steps_counted(sqlite_engine)
    store.append(_seized("long", 1_000), "desk")
    positions = [record.position for record in store.select(town="long")]
    costs, pages = [], []
    for after in (positions[9], positions[899]):
        steps.clear()
        pages.append([r.version for r in store.select(after=after, town="long", limit=50)])
        costs.append(len(steps))

    assert pages == [list(range(11, 61)), list(range(901, 951))]
    assert costs[1] <= costs[0] * 1.1, costs  # not the 890 records before it


@pytest.mark.parametrize("one_town", [True, False], ids=["one town", "every town"])
@pytest.mark.parametrize("statement", ["heads", "reports", "moved", "listed", "tolls"])
def test_the_reads_of_towns_find_reports_and_versions_by_key_rather_than_scan_the_log(
    sqlite_engine: Engine, one_town: bool, statement: str
) -> None:
    moment = {"as_of": 0, "known_at": 0, "through": 0, "town": "karak-sharqi"}
    read = getattr(_Statements.built(one_town, "sqlite"), statement)

    steps = _plan(sqlite_engine, read, moment)

    scanned = ("SCAN events", "SCAN town_reports", "SCAN town_versions")
    assert not [step for step in steps if step.startswith(scanned)], steps


def _plan(engine: Engine, statement: Any, parameters: dict[str, Any]) -> list[str]:
    """The steps of SQLite's plan for `statement` with `parameters`."""
    with engine.connect() as conn:
        compiled = statement.compile(dialect=engine.dialect)
        values = {**compiled.params, **parameters}
        plan = conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}", tuple(values[n] for n in compiled.positiontup)
        ).all()
    return [row[-1] for row in plan]
