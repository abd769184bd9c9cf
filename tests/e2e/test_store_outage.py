"""When the store does not answer, clients get a 503 problem and /health says so."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

from fastapi.testclient import TestClient

from events.errors import StoreUnavailable
from events.memory import InMemoryStore
from events.record import Record
from events.store import Appended, Pending
from service.bootstrap import create_app
from service.settings import Settings
from tests.clock import FakeClock
from tests.make import REBELS, body


class DownStore(InMemoryStore):
    """A store whose database has gone away."""

    def append(self, pending: Sequence[Pending], recorded_by: str) -> list[Appended]:
        raise StoreUnavailable("connection refused")

    def select(
        self,
        *,
        after: int = 0,
        limit: int = 1_000,
        town: str | None = None,
        kinds: Collection[str] | None = None,
        targets: Collection[UUID] | None = None,
        known_at: datetime | None = None,
    ) -> list[Record]:
        raise StoreUnavailable("connection refused")

    def ping(self) -> None:
        raise StoreUnavailable("connection refused")


def client() -> TestClient:
    clock = FakeClock()
    settings = Settings(api_keys="key=reporter")
    return TestClient(create_app(settings, store=DownStore(clock), clock=clock))


def test_health_answers_503_when_the_store_is_down() -> None:
    response = client().get("/health")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "store": "memory"}


def test_reads_and_writes_answer_a_503_problem_without_details_of_the_driver() -> None:
    down = client()
    headers = {"Authorization": "Bearer key"}

    read = down.get("/towns", headers=headers)
    written = down.post(
        "/events", json=body("checkpoint.seized", checkpoint="x", by=REBELS), headers=headers
    )

    for response in (read, written):
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "connection refused" not in response.text
