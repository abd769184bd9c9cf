"""The schema is Alembic's: fresh databases, old databases and racing migrators end up at head."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from events.errors import StoreUnavailable
from events.sql import SqlEventStore, connect
from events.sql.engine import create
from events.sql.migrate import current_revision, head_revision, upgrade
from events.sql.schema import metadata
from events.store import Pending
from tests.clock import FakeClock
from tests.make import REBELS, event


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
