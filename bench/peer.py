"""The Python peer: the `eventsourcing` library appending and replaying the same kind of work."""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Town(Aggregate):
    """A town whose reports are appended one command at a time."""

    @event("Registered")
    def __init__(self, slug: str) -> None:
        self.slug = slug
        self.reports: int = 0

    @event("Reported")
    def report(self, kind: str, body: dict[str, Any]) -> None:
        self.reports += 1


class Tracker(Application[UUID]):
    """One town aggregate per town slug."""

    def register(self, slug: str) -> UUID:
        town = Town(slug)
        self.save(town)
        return town.id

    def report(self, town_id: UUID, kind: str, body: dict[str, Any]) -> None:
        town: Town = self.repository.get(town_id)
        town.report(kind, body)
        self.save(town)


def measure(commands: int) -> list[Any]:
    """Commands per second (each appends one event) and aggregate replay, on SQLite."""
    from bench.__main__ import Row
    from bench.synthetic import history

    bodies = history(commands + 500)[500:]
    with tempfile.TemporaryDirectory() as folder:
        os.environ.update(
            PERSISTENCE_MODULE="eventsourcing.sqlite", SQLITE_DBNAME=f"{folder}/es.db"
        )
        app = Tracker()
        ids = {f"town-{n:03d}": app.register(f"town-{n:03d}") for n in range(500)}
        started = time.perf_counter()
        for body in bodies:
            app.report(ids.get(body.get("town", ""), ids["town-000"]), body["kind"], body)
        append = len(bodies) / (time.perf_counter() - started)
        started = time.perf_counter()
        replayed = sum(app.repository.get(i).version for i in ids.values())
        replay = replayed / (time.perf_counter() - started)
    return [
        Row("sqlite", commands, "eventsourcing 9.5: commands (1 event each)", append, "events/s"),
        Row("sqlite", commands, "eventsourcing 9.5: aggregate replay", replay, "events/s"),
    ]
