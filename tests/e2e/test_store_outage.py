"""When the store does not answer, clients get a 503 problem and /health says so."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.bootstrap import create_app
from service.settings import Settings
from tests.clock import FakeClock
from tests.fakes import FailingStore
from tests.make import REBELS, body


def client() -> TestClient:
    clock = FakeClock()
    settings = Settings(api_keys="key=reporter")
    return TestClient(create_app(settings, store=FailingStore(clock), clock=clock))


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
