"""The live feed protocol in process: retry hint, ids, resuming, ending on a store failure."""

from __future__ import annotations

from fastapi.testclient import TestClient

from events.memory import InMemoryStore
from events.store import Pending
from service.bootstrap import create_app
from service.settings import Settings
from tests.clock import FakeClock
from tests.fakes import FailingStore
from tests.make import REBELS, event

READER = {"Authorization": "Bearer key"}


def client_with(store: InMemoryStore, clock: FakeClock) -> TestClient:
    return TestClient(create_app(Settings(api_keys="key=reader"), store=store, clock=clock))


def stored(store: InMemoryStore, count: int) -> None:
    seized = [event("checkpoint.seized", checkpoint=f"post {n}", by=REBELS) for n in range(count)]
    store.append([Pending(e) for e in seized], "field-team")


def test_the_feed_sends_a_retry_hint_then_every_record_with_its_position(
    clock: FakeClock,
) -> None:
    store = FailingStore(clock, healthy_reads=2)
    stored(store, 3)

    body = client_with(store, clock).get("/events/stream", headers=READER).text

    assert body.startswith("retry: 1000\n\n")
    assert [line for line in body.splitlines() if line.startswith("id:")] == [
        "id: 1",
        "id: 2",
        "id: 3",
    ]
    assert body.count("event: record") == 3


def test_last_event_id_wins_over_after(clock: FakeClock) -> None:
    store = FailingStore(clock, healthy_reads=2)
    stored(store, 3)
    headers = {**READER, "Last-Event-ID": "2"}

    body = client_with(store, clock).get("/events/stream?after=0", headers=headers).text

    assert [line for line in body.splitlines() if line.startswith("id:")] == ["id: 3"]


def test_the_feed_ends_when_the_store_fails_so_the_client_can_resume(clock: FakeClock) -> None:
    store = FailingStore(clock, healthy_reads=2)

    response = client_with(store, clock).get("/events/stream", headers=READER)

    assert response.status_code == 200
    assert store.reads == 3, "it paged until the store failed, then ended the stream"


def test_a_last_event_id_that_is_not_a_position_is_a_422(clock: FakeClock) -> None:
    headers = {**READER, "Last-Event-ID": "yesterday"}

    response = client_with(InMemoryStore(clock), clock).get("/events/stream", headers=headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["header", "Last-Event-ID"]
