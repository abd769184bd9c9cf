"""The composition root: the one place that reads the clock and opens stores."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from typing import TYPE_CHECKING

from events.keyring import InMemoryKeyRing, KeyRing
from events.signal import AppendSignal, PollingSignal
from events.snapshots import InMemorySnapshots, Snapshots
from events.sql import SqlEventStore, SqlKeyRing, SqlSnapshots, connect
from events.sql.listen import PostgresSignal
from events.store import EventStore
from projections.keeping import Projector
from service.auth import Gate, parse_configured_keys
from service.reads import Reads
from service.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

Clock = Callable[[], datetime]


GC_THRESHOLDS = (50_000, 50, 100)
"""Allocations between young collections, and young collections between older ones."""


def collect_garbage_in_bulk() -> None:
    """Let CPython's cycle collector run in fewer, larger passes: for a process's entry point.

    Folding, decoding and batches allocate many small objects that live on.
    With the default thresholds (700, 10, 10) the collector scans them again
    and again: a third of a rebuild's time and two thirds of decoding a large
    batch, measured here. Objects made before this call (modules, the app) are
    set aside for good. Memory is still reclaimed, in bigger steps.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def system_clock() -> datetime:
    """The wall clock, in UTC: sitrep's only reading of it."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Storage:
    """An opened store, its key ring, a name for /health, and how to close it."""

    store: EventStore
    keyring: KeyRing
    name: str
    close: Callable[[], None]
    signal: AppendSignal
    snapshots: Snapshots

    @property
    def projector(self) -> Projector:
        """A projector keeping this storage's snapshots."""
        return Projector(self.store, self.snapshots)


def open_storage(settings: Settings, clock: Clock = system_clock) -> Storage:
    """The SQL store and key ring at `settings.database_url`, schema created if missing."""
    engine = connect(settings.database_url)
    name = engine.dialect.name
    signal = PostgresSignal(settings.database_url) if name == "postgresql" else PollingSignal()
    store = SqlEventStore(engine, clock)
    return Storage(
        store, SqlKeyRing(engine, clock), name, engine.dispose, signal, SqlSnapshots(store)
    )


def create_app(
    settings: Settings,
    *,
    store: EventStore | None = None,
    keyring: KeyRing | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """The sitrep app; tests pass an in-memory store and a fixed clock instead of patching."""
    # The HTTP layer is imported here, when an app is built, not with this module:
    # `sitrep import`, `rebuild` and `keys` never serve, and importing FastAPI, the
    # routes and their models took 0.45 s of their 1 s start.
    from fastapi import FastAPI

    from service import problems
    from service.container import Container
    from service.routes import captives, events, health, stream, towns
    from service.writes import Writes

    clock = clock or system_clock
    if store is None:
        storage = open_storage(settings, clock)
    else:
        storage = Storage(
            store,
            keyring or InMemoryKeyRing(),
            "memory",
            lambda: None,
            PollingSignal(0.05),
            InMemorySnapshots(store),
        )
    gate = Gate(parse_configured_keys(settings.api_keys), storage.keyring, settings.public_reads)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await storage.signal.start()
        yield
        await storage.signal.stop()
        storage.close()

    app = FastAPI(
        title="sitrep",
        version=version("sitrep"),
        summary="An event-sourced, bitemporal situation tracker",
        lifespan=lifespan,
    )
    app.state.container = Container(
        store=storage.store,
        store_name=storage.name,
        reads=Reads(storage.store, storage.projector),
        writes=Writes(storage.store),
        gate=gate,
        clock=clock,
        signal=storage.signal,
    )
    problems.install(app)
    for module in (stream, events, towns, captives, health):  # /events/stream before /{id}
        app.include_router(module.router)
    return app
