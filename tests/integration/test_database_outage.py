"""When PostgreSQL goes away the service says so (503, /health) and recovers by itself."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url

from service.bootstrap import create_app
from service.settings import Settings
from tests.make import REBELS, body
from tests.proxy import Proxy

pytestmark = pytest.mark.postgres
HEADERS = {"Authorization": "Bearer key"}


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[Proxy]:
    url = make_url(postgres_url)
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.restore()
    yield proxy
    proxy.cut()


@pytest.fixture
def client(postgres_url: str, proxy: Proxy) -> Iterator[TestClient]:
    through_proxy = make_url(postgres_url).set(host="127.0.0.1", port=proxy.port)
    settings = Settings(
        database_url=through_proxy.render_as_string(hide_password=False),
        api_keys="key=reporter",
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def post(client: TestClient, n: int) -> int:
    sent = body("checkpoint.seized", checkpoint=f"post {n}", by=REBELS)
    return client.post("/events", json=sent, headers=HEADERS).status_code


def test_an_unreachable_database_is_a_503_and_health_says_so(
    client: TestClient, proxy: Proxy
) -> None:
    assert post(client, 1) == 201

    proxy.cut()

    health = client.get("/health")
    read = client.get("/towns/karak-sharqi", headers=HEADERS)
    assert health.status_code == 503
    assert health.json()["status"] == "unavailable"
    assert read.status_code == 503
    assert read.headers["content-type"] == "application/problem+json"
    assert post(client, 2) == 503


def test_the_service_recovers_by_itself_when_the_database_comes_back(
    client: TestClient, proxy: Proxy
) -> None:
    assert post(client, 1) == 201
    proxy.cut()
    assert client.get("/health").status_code == 503

    proxy.restore()

    deadline = time.monotonic() + 10
    while client.get("/health").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert post(client, 2) == 201
    log = client.get("/events", headers=HEADERS).json()["data"]
    assert [r["checkpoint"] for r in log] == ["post 1", "post 2"]
