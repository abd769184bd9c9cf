"""The schema is Alembic's: fresh databases, old databases and racing migrators end up at head."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select, text
from sqlalchemy import event as sa_event

from events.errors import StoreUnavailable
from events.kinds import ReportedEvent
from events.record import Record
from events.sql import SqlEventStore, SqlSnapshots, connect
from events.sql import store as sql_store
from events.sql.engine import create
from events.sql.migrate import NEWEST, current_revision, head_revision, upgrade
from events.sql.schema import FOREVER, group_names, metadata, to_micros
from events.store import Pending
from projections import town
from projections.frontier import STATE
from projections.keeping import Projector
from projections.replay import facts, fold
from tests.clock import FakeClock
from tests.keeping import replayed
from tests.make import AFI, REBELS, as_actor, correction, event, replacement, retraction

AFTER_ALL = datetime(2021, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))


def test_a_fresh_database_is_migrated_to_the_schema_the_code_queries(database_url: str) -> None:
    engine = connect(database_url)

    assert current_revision(engine) == head_revision()
    assert _differences(engine) == []
    engine.dispose()


def test_the_groups_named_lead_a_search_of_their_reports_through_an_index(
    database_url: str, clock: FakeClock
) -> None:
    engine = connect(database_url)
    store = SqlEventStore(engine, clock)
    written = store.append([Pending(_capture("afi-troops"))], "alice")
    searches: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "group_names" in statement:
            searches.append((statement, params))

    sa_event.listen(engine, "before_cursor_execute", keep)
    found = SqlSnapshots(store).naming({"afi-troops"}, written[0].record.position, (AFTER_ALL, 0))
    sa_event.remove(engine, "before_cursor_execute", keep)
    [(statement, params)] = searches
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute("SET enable_seqscan = off")  # a tiny table is read whole otherwise
            cursor.execute(f"EXPLAIN {statement}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}", params)
        plan = "\n".join(str(row) for row in cursor.fetchall())
    finally:
        raw.close()
        engine.dispose()

    assert found == []  # the capture came before the key
    assert "group_names USING PRIMARY KEY (name=?" in plan or "group_names_pkey" in plan, plan
    assert "Seq Scan" not in plan


def test_captive_reports_and_corrections_stored_before_0011_name_their_groups_after_it(
    database_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = create(database_url)
    upgrade(old, "0010")
    log = SqlEventStore(old, clock)
    with monkeypatch.context() as before:  # appends wrote no group names then
        before.setattr(sql_store, "names_rows", lambda records: [])
        capture, split, clash = log.append(
            [
                Pending(_capture("afi-troops")),
                Pending(
                    event(
                        "captives.transferred",
                        group="afi-troops",
                        to=REBELS,
                        role="neutral",
                        count=1,
                        new_group="handed-over",
                    )
                ),
                Pending(event("clash", sides=[REBELS])),
            ],
            "alice",
        )
        renamed = _replacement("renamed")
        log.append(
            [
                Pending(correction(capture.record.id, renamed)),
                Pending(correction(clash.record.id, replacement("clash", sides=[AFI]))),
            ],
            "editor",
        )
    records = log.select(after=0)

    engine = connect(database_url)
    with engine.connect() as conn:
        kept = {tuple(row) for row in conn.execute(select(group_names))}
    engine.dispose()
    old.dispose()

    assert kept == {tuple(row.values()) for row in sql_store.names_rows(records)}
    assert {(name, report) for name, _, _, report in kept} == {
        ("afi-troops", capture.record.id),
        ("afi-troops", split.record.id),
        ("handed-over", split.record.id),
        ("renamed", capture.record.id),  # by its correction, whenever it folds
    }


def _replacement(group: str) -> dict[str, Any]:
    return replacement("captives.taken", group=group, captor=REBELS, count=3, affiliation=AFI)


def _capture(group: str) -> ReportedEvent:
    return event("captives.taken", group=group, captor=REBELS, count=3, affiliation=AFI)


def test_the_newest_revision_the_code_knows_without_alembic_is_alembics_head() -> None:
    # A database stamped with it is not migrated again, and Alembic is not loaded.
    assert head_revision() == NEWEST


def test_a_database_at_the_newest_revision_opens_without_loading_alembic(
    database_url: str,
) -> None:
    connect(database_url).dispose()  # migrated: Alembic is loaded here
    script = (
        "import sys; from events.sql import connect; "
        f"connect({database_url!r}).dispose(); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'psycopg'}))"
    )

    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout

    expected = "['psycopg']" if database_url.startswith("postgresql") else "[]"
    assert loaded.strip() == expected


def test_a_database_made_by_the_first_migration_upgrades_and_keeps_its_events(
    database_url: str, clock: FakeClock
) -> None:
    old = create(database_url)
    upgrade(old, "0001")
    written = SqlEventStore(old, clock).append(
        [Pending(event("checkpoint.seized", checkpoint="AFI post", by=REBELS))], "alice"
    )

    engine = connect(database_url)

    assert current_revision(engine) == head_revision() != "0001"
    assert SqlEventStore(engine, clock).select() == [written[0].record]
    old.dispose()
    engine.dispose()


def test_towns_kept_with_whole_lists_before_0005_read_right_after_the_upgrade(
    database_url: str, clock: FakeClock
) -> None:
    old = create(database_url)
    upgrade(old, "0004")
    deal = event(
        "agreement.reached", agreement="deal", parties=[REBELS], terms=[{"type": "ceasefire"}]
    )
    [written] = SqlEventStore(old, clock).append([Pending(deal)], "alice")
    record = written.record
    _keep_as_before(old, record, "0004")  # the whole lists inside the state

    engine = connect(database_url)
    store = SqlEventStore(engine, clock)
    projector = Projector(store, SqlSnapshots(store), every=1)
    before = clock.now
    clock.advance(minutes=1)
    later = [
        event(
            "statistic.reported",
            occurred_at="2020-03-10T10:00:00Z",
            metric="attacks",
            value={"low": 500, "best": 500, "high": 600},
            since="2018-07-01T00:00:00Z",
            subject="all",
        ),
        event(
            "agreement.reached",
            occurred_at="2020-03-11T10:00:00Z",
            agreement="deal",
            parties=[REBELS],
            terms=[{"type": "no_entry"}],
        ),
    ]
    appended = store.append([Pending(report) for report in later], "alice")
    projector.catch_up()

    for moment in (before, clock.now):
        kept = projector.town(record.town, AFTER_ALL, moment)
        assert kept.state == replayed(store, record.town, AFTER_ALL, moment)
    kept = projector.town(record.town, AFTER_ALL, clock.now)
    assert [a.event for a in kept.state.agreements] == [appended[1].record.id]
    assert len(kept.state.statistics) == 1
    old.dispose()
    engine.dispose()


def test_towns_kept_with_the_sum_of_the_dead_before_0006_read_right_after_the_upgrade(
    database_url: str, clock: FakeClock
) -> None:
    old = create(database_url)
    upgrade(old, "0005")
    clash = event("clash", occurred_at="2020-03-10T10:00:00Z", sides=[REBELS], fatalities=_dead(4))
    [written] = SqlEventStore(old, clock).append([Pending(clash)], "alice")
    record = written.record
    _keep_as_before(old, record, "0005")  # the whole sum of the dead inside the state

    engine = connect(database_url)
    store = SqlEventStore(engine, clock)
    projector = Projector(store, SqlSnapshots(store), every=1)
    before = clock.now
    clock.advance(minutes=1)
    days = ("2020-03-09T10:00:00Z", "2020-03-11T10:00:00Z")  # one late, one after
    store.append(
        [
            Pending(event("clash", occurred_at=day, sides=[REBELS], fatalities=_dead(n)))
            for n, day in ((2, days[0]), (3, days[1]))
        ],
        "alice",
    )
    projector.catch_up()

    for moment in (before, clock.now):
        kept = projector.town(record.town, AFTER_ALL, moment)
        assert kept.state == replayed(store, record.town, AFTER_ALL, moment)
    assert projector.town(record.town, AFTER_ALL, clock.now).state.fatalities.best == 9
    old.dispose()
    engine.dispose()


def test_captives_folded_before_the_ledger_was_kept_are_in_it_after_the_upgrade(
    database_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = create(database_url)
    upgrade(old, "0006")
    captured = event("captives.taken", group="afi-1", captor=REBELS, count=5, affiliation=AFI)
    with monkeypatch.context() as before:  # appends wrote no group names then
        before.setattr(sql_store, "names_rows", lambda records: [])
        SqlEventStore(old, clock).append([Pending(captured)], "alice")
    with old.begin() as conn:  # folded by a projector that kept no ledger
        conn.execute(text("UPDATE checkpoints SET position = 1 WHERE name = 'snapshots'"))

    engine = connect(database_url)
    store = SqlEventStore(engine, clock)
    snapshots = SqlSnapshots(store)
    checkpoint = snapshots.checkpoint()
    Projector(store, snapshots).catch_up()

    assert checkpoint == 0  # the upgrade forgot what was folded, so all of it folds again
    group = Projector(store, snapshots).ledger(AFTER_ALL, clock.now).groups["afi-1"]
    assert (group.held, group.holder) == (5, as_actor(REBELS))
    old.dispose()
    engine.dispose()


def test_towns_folded_before_0010_read_with_their_tails_and_versions_right_after_the_upgrade(
    database_url: str, clock: FakeClock
) -> None:
    old = create(database_url)
    upgrade(old, "0009")
    log = SqlEventStore(old, clock)
    clashes = [
        event("clash", occurred_at=day, sides=[REBELS], fatalities=_dead(n))
        for n, day in ((2, "2020-03-09T10:00:00Z"), (3, "2020-03-11T10:00:00Z"))
    ]
    first, _ = log.append([Pending(clash) for clash in clashes], "alice")
    clock.advance(minutes=1)
    [fixed] = log.append([Pending(retraction(first.record.id))], "alice")
    with old.begin() as conn:  # folded as 0009 did, into no snapshot yet: a short town
        conn.execute(
            text("UPDATE checkpoints SET position = :at WHERE name = 'snapshots'"),
            {"at": fixed.record.position},
        )
        known = {"town": fixed.record.town, "known": to_micros(first.record.recorded_at)}
        conn.execute(text("INSERT INTO towns VALUES (:town, :known)"), known)
        conn.execute(
            text("INSERT INTO reaches VALUES (:town, :known, :reach)"),
            {**known, "reach": to_micros(datetime(2020, 3, 11, 10, tzinfo=UTC))},
        )
    folded = clock.now
    clock.advance(minutes=1)
    log.append([Pending(event("clash", sides=[REBELS], fatalities=_dead(4)))], "alice")

    engine = connect(database_url)
    store = SqlEventStore(engine, clock)
    projector = Projector(store, SqlSnapshots(store))
    projector.catch_up()  # the record after the checkpoint, as any step

    slug = fixed.record.town
    for moment, version in ((first.record.recorded_at, 2), (folded, 3), (clock.now, 4)):
        kept = projector.town(slug, AFTER_ALL, moment)
        assert (kept.state, kept.version) == (replayed(store, slug, AFTER_ALL, moment), version)
    assert projector.town(slug, AFTER_ALL, clock.now).state.fatalities.best == 3 + 4
    old.dispose()
    engine.dispose()


_OLD_SNAPSHOT = {
    "0004": "INSERT INTO snapshots VALUES (:town, :at, 1, :known, :forever, :state)",
    "0005": "INSERT INTO snapshots VALUES (:town, :at, 1, :known, :forever, :state, NULL)",
}


def _keep_as_before(engine: Engine, record: Record, revision: str) -> None:
    """Keep the one-record town's snapshot as the projector of `revision` did: all in `state`.

    Since 0007 the upgrade forgets it and folds the log again; the tests that
    keep one show that a town kept the old way reads right after the upgrade.
    """
    whole = fold(town.TownState(record.town), town.evolve, facts([record]))
    assert record.event.occurred_at is not None
    with engine.begin() as conn:
        conn.execute(
            text(_OLD_SNAPSHOT[revision]),
            {
                "town": record.town,
                "at": to_micros(record.event.occurred_at),
                "known": to_micros(record.recorded_at),
                "forever": FOREVER,
                "state": STATE.dump_json(whole).decode(),
            },
        )
        conn.execute(text("UPDATE checkpoints SET position = 1 WHERE name = 'snapshots'"))
        conn.execute(
            text("INSERT INTO towns VALUES (:town, :known)"),
            {"town": record.town, "known": to_micros(record.recorded_at)},
        )


def _dead(count: int) -> dict[str, int]:
    return {"low": count, "best": count, "high": count}


@pytest.mark.postgres
def test_after_the_upgrade_postgres_announces_appends(postgres_url: str, clock: FakeClock) -> None:
    old = create(postgres_url)
    upgrade(old, "0001")
    engine = connect(postgres_url)

    with engine.connect() as conn:
        triggers = conn.execute(
            text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'events'::regclass")
        ).scalars()
        assert "events_notify_append" in set(triggers)
    old.dispose()
    engine.dispose()


def test_processes_starting_together_migrate_once_and_all_start(database_url: str) -> None:
    def start(_: int) -> str | None:
        try:
            engine = connect(database_url)
        except StoreUnavailable as error:  # say why, should it ever happen
            return f"{error!r} caused by {error.__cause__!r}"
        revision = current_revision(engine)
        engine.dispose()
        return revision

    with ThreadPoolExecutor(6) as pool:
        revisions = list(pool.map(start, range(6)))

    assert revisions == [head_revision()] * 6
