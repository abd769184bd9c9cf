"""Responses built by hand match the schemas OpenAPI declares for them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter

from events.memory import InMemoryStore
from service.bootstrap import create_app
from service.demo import load_story
from service.schemas import (
    BatchPublic,
    HealthPublic,
    HistoryPublic,
    LedgerPublic,
    RecordPublic,
    RecordsPublic,
    TownPublic,
    TownsPublic,
)
from service.settings import Settings
from tests.clock import FakeClock
from tests.make import REBELS, body

EDITOR = {"Authorization": "Bearer editor-key"}
ENTERED = "00000000-0000-7000-8000-000000000018"
STORMED = "00000000-0000-7000-8000-000000000006"


@pytest.fixture(scope="module")
def client() -> TestClient:
    clock = FakeClock()
    store = InMemoryStore(clock)
    load_story(store)
    clock.advance(days=1)
    app = create_app(Settings(api_keys="editor-key=editor:desk"), store=store, clock=clock)
    client = TestClient(app)
    client.post(f"/events/{ENTERED}/retraction", json={"reason": "a patrol"}, headers=EDITOR)
    return client


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        ("/events?limit=1000", RecordsPublic),
        (f"/events/{ENTERED}", RecordPublic),
        (f"/events/{STORMED}", RecordPublic),
        ("/towns/karak-sharqi/history", HistoryPublic),
        ("/towns/karak-sharqi/audit", RecordsPublic),
        ("/towns/karak-sharqi", TownPublic),
        ("/towns", TownsPublic),
        ("/captives", LedgerPublic),
        ("/health", HealthPublic),
    ],
)
def test_every_read_matches_its_declared_schema(
    client: TestClient, path: str, schema: type[BaseModel] | Any
) -> None:
    response = client.get(path, headers=EDITOR)

    assert response.status_code == 200
    TypeAdapter(schema).validate_python(response.json())


def test_written_records_match_their_declared_schema(client: TestClient) -> None:
    seized = body("checkpoint.seized", checkpoint="north gate", by=REBELS)

    one = client.post("/events", json=seized, headers=EDITOR)
    batch = client.post("/events/batch", json={"events": [seized, seized]}, headers=EDITOR)

    TypeAdapter(RecordPublic).validate_python(one.json())
    BatchPublic.model_validate(batch.json())


@pytest.mark.parametrize(
    ("path", "schema"),
    [("/towns/karak-sharqi", TownPublic), ("/towns", TownsPublic), ("/captives", LedgerPublic)],
)
def test_the_read_models_answer_exactly_what_their_schemas_say(
    client: TestClient, path: str, schema: type[BaseModel]
) -> None:
    answer = client.get(path, headers=EDITOR).json()

    # Nothing missing, nothing extra, every value in the form the schema writes it.
    assert schema.model_validate(answer).model_dump(mode="json", by_alias=True) == answer
