"""Shared fixtures: hypothesis profiles, a fake clock, and every store the contract covers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from events.memory import InMemoryStore
from events.sql import SqlEventStore, connect
from events.sql.schema import metadata
from events.store import EventStore
from tests.clock import FakeClock

settings.register_profile("ci", max_examples=60, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile(
    "thorough", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

POSTGRES_URL = os.environ.get(
    "SITREP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def clock() -> FakeClock:
    """A clock at 2020-03-12T09:00Z that moves only when told."""
    return FakeClock()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end.

    Skips with the reason when no server answers; under CI a missing server fails.
    """
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"sitrep_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        reason = f"PostgreSQL is not reachable at {POSTGRES_URL}: {error.orig}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the PostgreSQL tests)")
        pytest.skip(reason)
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """The session's PostgreSQL database, emptied before the test."""
    empty_postgres(postgres_server)
    return postgres_server


def empty_postgres(url: str) -> None:
    """Drop every table sitrep makes, so the next connect migrates from scratch."""
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = ", ".join([*metadata.tables, "alembic_version"])
        conn.execute(text(f"DROP TABLE IF EXISTS {tables} CASCADE"))
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file of the test's own."""
    return f"sqlite:///{tmp_path / 'sitrep.db'}"


StoreFactory = Callable[[FakeClock], EventStore]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_store(request: pytest.FixtureRequest) -> Iterator[StoreFactory]:
    """Builds the store under test on a given clock: in memory, SQLite, or PostgreSQL."""
    if request.param == "memory":
        yield InMemoryStore
        return
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    engine = connect(url)
    yield lambda clock: SqlEventStore(engine, clock)
    engine.dispose()


@pytest.fixture
def store(make_store: StoreFactory, clock: FakeClock) -> EventStore:
    """The store under test, on the test's clock."""
    return make_store(clock)
