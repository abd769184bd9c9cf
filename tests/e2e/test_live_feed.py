"""The live feed over real HTTP: every client gets each new record, and reconnecting loses none."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from tests.make import REBELS, body
from tests.servers import REPORTER, Follower, serving


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    url: str = request.getfixturevalue(f"{request.param}_url")
    with serving(url) as base:
        yield base


def post(server: str, n: int) -> dict[str, Any]:
    seized = body("checkpoint.seized", checkpoint=f"post {n}", by=REBELS)
    response = httpx2.post(f"{server}/events", json=seized, headers=REPORTER)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def test_every_connected_client_receives_a_new_record(server: str) -> None:
    followers = [Follower(server), Follower(server)]

    posted = post(server, 1)

    for follower in followers:
        delivered = follower.next()
        assert delivered.id == posted["position"]
        assert delivered.data["id"] == posted["id"]
        follower.close()


def test_the_feed_starts_after_the_position_asked_for(server: str) -> None:
    for n in range(3):
        post(server, n)

    follower = Follower(server, after=1)

    assert [d.id for d in follower.take(2)] == [2, 3]
    follower.close()


def test_a_client_that_reconnects_with_last_event_id_loses_and_repeats_nothing(
    server: str,
) -> None:
    first = Follower(server)
    post(server, 1)
    last_seen = first.next().id
    first.close()

    missed = [post(server, n)["position"] for n in range(2, 6)]
    again = Follower(server, last_event_id=last_seen)
    later = post(server, 6)["position"]

    assert [d.id for d in again.take(5)] == [*missed, later]
    with pytest.raises(queue.Empty):
        again.next(timeout=1.5)
    again.close()
