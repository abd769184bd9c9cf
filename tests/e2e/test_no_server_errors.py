"""No query string, however odd, makes a read answer 5xx on a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from service.bootstrap import create_app
from service.settings import Settings
from tests.make import REBELS, body

READER = {"Authorization": "Bearer reader-key"}
PATHS = (
    "/events",
    "/events/00000000-0000-7000-8000-000000000001",
    "/towns",
    "/towns/karak-sharqi",
    "/towns/karak-sharqi/history",
    "/towns/karak-sharqi/audit",
    "/captives",
    "/captives/some-group",
    "/casualties",
)
PARAMETERS = (
    "after", "limit", "town", "kind", "as_of", "known_at", "province", "side",
    "status", "holder_side", "group_by", "from", "to",
)  # fmt: skip
values = st.one_of(
    st.text(max_size=40),
    st.integers().map(str),
    st.sampled_from(["2020-03-05", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"]),
    st.sampled_from(["2020-03-05T10:00:00", "-1", "1e309", "NaN", "town"]),
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    database = Path(tmp_path_factory.mktemp("odd-queries")) / "sitrep.db"
    settings = Settings(
        database_url=f"sqlite:///{database}", api_keys="reader-key=reader,writer-key=reporter"
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        client.post(
            "/events",
            json=body("checkpoint.seized", checkpoint="AFI post", by=REBELS),
            headers={"Authorization": "Bearer writer-key"},
        )
        yield client


@given(
    path=st.sampled_from(PATHS),
    query=st.dictionaries(st.sampled_from(PARAMETERS), values, max_size=4),
)
def test_any_query_is_answered_without_a_server_error(
    client: TestClient, path: str, query: dict[str, str]
) -> None:
    response = client.get(path, params=query, headers=READER)

    assert response.status_code < 500, response.text


def test_a_position_beyond_64_bits_is_a_422_naming_the_parameter(client: TestClient) -> None:
    response = client.get("/events", params={"after": str(2**64)}, headers=READER)

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "after"]
