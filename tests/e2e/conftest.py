"""End-to-end fixtures: the app built through its composition root, and who is calling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from events.keyring import KeyRing
from events.memory import InMemoryStore
from events.store import EventStore
from service.bootstrap import create_app
from service.settings import Settings
from tests.clock import FakeClock
from tests.conftest import StoreFactory

API_KEYS = "admin-key=admin:alice,editor-key=editor:ed,reporter-key=reporter:rita,reader-key=reader"
PROBLEM = "application/problem+json"


def bearer(key: str) -> dict[str, str]:
    """The Authorization header for an API key."""
    return {"Authorization": f"Bearer {key}"}


ADMIN = bearer("admin-key")
EDITOR = bearer("editor-key")
REPORTER = bearer("reporter-key")
READER = bearer("reader-key")


def build_app(
    clock: FakeClock,
    *,
    api_keys: str = API_KEYS,
    public_reads: bool = False,
    keyring: KeyRing | None = None,
    store: EventStore | None = None,
) -> FastAPI:
    """The app as the composition root builds it, on the test clock (in memory by default)."""
    settings = Settings(api_keys=api_keys, public_reads=public_reads)
    store = store or InMemoryStore(clock)
    return create_app(settings, store=store, keyring=keyring, clock=clock)


def serve(app: FastAPI) -> TestClient:
    """A client that answers a server error with its 500 response instead of raising."""
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(clock: FakeClock, make_store: StoreFactory) -> Iterator[TestClient]:
    """A client of a fresh app with the four configured keys and no public reads, on every store."""
    with serve(build_app(clock, store=make_store(clock))) as test_client:
        yield test_client


def append(client: TestClient, event: dict[str, Any], headers: dict[str, str] = EDITOR) -> Any:
    """Post one event that must be accepted; its record."""
    response = client.post("/events", json=event, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def append_all(client: TestClient, *events: dict[str, Any]) -> list[Any]:
    """Post events as one batch that must be accepted; their records."""
    response = client.post("/events/batch", json={"events": list(events)}, headers=EDITOR)
    assert response.status_code == 201, response.text
    records: list[Any] = response.json()["data"]
    return records


def stored(client: TestClient) -> list[Any]:
    """Every record in the log, in position order."""
    response = client.get("/events", params={"limit": 1000}, headers=READER)
    assert response.status_code == 200, response.text
    records: list[Any] = response.json()["data"]
    return records
