"""Several API processes on one database: nothing lost, duplicated or skipped, one winner each.

Writers are separate OS processes posting through two separate `sitrep serve`
processes; a reader pages `GET /events?after=` while they write, as a client
catching up would.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any
from uuid import uuid4

import httpx2
import pytest

from tests.make import REBELS, body
from tests.servers import READER, REPORTER, serving

WRITERS = 4
EACH = 60
TOWNS = ("karak-sharqi", "tafas", "nawa", "jasim", "inkhil")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def servers(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Two `sitrep serve` processes on one database."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    with ExitStack() as stack:
        yield [stack.enter_context(serving(url)) for _ in range(2)]


def write(writer: int, servers: list[str]) -> list[tuple[str, int]]:
    """One writer process: post EACH events, alternating servers; the (id, position) acked."""
    acknowledged = []
    with httpx2.Client(timeout=60) as client:
        for n in range(EACH):
            town = TOWNS[(writer + n) % len(TOWNS)]
            sent = body("checkpoint.seized", town=town, checkpoint=f"{writer}-{n}", by=REBELS)
            response = client.post(f"{servers[n % 2]}/events", json=sent, headers=REPORTER)
            assert response.status_code == 201, response.text
            acknowledged.append((response.json()["id"], response.json()["position"]))
    return acknowledged


class Reader:
    """Pages the log from a server while writers write, as a follower would."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.seen: list[dict[str, Any]] = []
        self.after = 0
        self.writing = True
        self.thread = threading.Thread(target=self.run)

    def page(self, client: httpx2.Client) -> int:
        params = {"after": self.after, "limit": 25}
        response = client.get(f"{self.server}/events", params=params, headers=READER)
        data = response.json()["data"]
        self.seen.extend(data)
        self.after = response.json()["next_after"]
        return len(data)

    def run(self) -> None:
        with httpx2.Client(timeout=60) as client:
            while self.writing:
                self.page(client)
            while self.page(client):
                pass


def test_every_acknowledged_record_is_read_exactly_once_in_order(servers: list[str]) -> None:
    reader = Reader(servers[1])
    reader.thread.start()

    # spawn, not fork: a child forked while another thread holds a lock (OpenSSL's,
    # the logging module's) can wait on it forever.
    with ProcessPoolExecutor(WRITERS, mp_context=multiprocessing.get_context("spawn")) as pool:
        acked = [
            ack for batch in pool.map(write, range(WRITERS), [servers] * WRITERS) for ack in batch
        ]
    reader.writing = False
    reader.thread.join()

    positions = [record["position"] for record in reader.seen]
    assert positions == sorted(set(positions)), "each record once, in position order"
    assert sorted(r["id"] for r in reader.seen) == sorted(i for i, _ in acked)
    assert positions == list(range(1, WRITERS * EACH + 1))
    for town in TOWNS:
        versions = [r["version"] for r in reader.seen if r["town"] == town]
        assert versions == list(range(1, len(versions) + 1))


def test_conflicting_writes_to_different_processes_have_one_winner_per_version(
    servers: list[str],
) -> None:
    def attempt(i: int, version: int) -> int:
        sent = body("clash", sides=[REBELS], notes=f"writer {i}", expected_version=version)
        return httpx2.post(f"{servers[i % 2]}/events", json=sent, headers=REPORTER).status_code

    with ThreadPoolExecutor(6) as pool:
        rounds = [sorted(pool.map(attempt, range(6), [version] * 6)) for version in range(5)]

    assert rounds == [[201, 409, 409, 409, 409, 409]] * 5
    log = httpx2.get(f"{servers[0]}/events", headers=READER).json()["data"]
    assert [r["version"] for r in log] == [1, 2, 3, 4, 5]


def test_one_id_retried_against_different_processes_is_stored_once(servers: list[str]) -> None:
    sent = {**body("clash", sides=[REBELS]), "id": str(uuid4())}

    def attempt(i: int) -> httpx2.Response:
        return httpx2.post(f"{servers[i % 2]}/events", json=sent, headers=REPORTER)

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(attempt, range(6)))

    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 200, 201]
    assert len({r.json()["position"] for r in responses}) == 1
    log = httpx2.get(f"{servers[0]}/events", headers=READER).json()["data"]
    assert [r["id"] for r in log] == [sent["id"]]
