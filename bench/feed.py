"""Live-feed latency: from a POST's 201 to the record's arrival on an open stream."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from typing import Any

import httpx2

from bench.processes import HEADERS


def latencies(url: str, bodies: list[dict[str, Any]]) -> list[float]:
    """Seconds from each POST's answer to its arrival at a follower of /events/stream."""
    arrived: queue.Queue[tuple[int, float]] = queue.Queue()
    connected = threading.Event()

    def follow() -> None:
        with (
            contextlib.suppress(httpx2.HTTPError),  # the server stops at the end of the run
            httpx2.Client(timeout=httpx2.Timeout(5, read=None)) as client,
            client.stream(
                "GET", f"{url}/events/stream", params={"after": 0}, headers=HEADERS
            ) as response,
        ):
            connected.set()
            for line in response.iter_lines():
                if line.startswith("id:"):
                    arrived.put((int(line[3:]), time.perf_counter()))

    threading.Thread(target=follow, daemon=True).start()
    connected.wait(10)
    with contextlib.suppress(queue.Empty):
        while True:  # the backlog first, until the feed is quiet
            arrived.get(timeout=1.5)
    found = []
    with httpx2.Client(timeout=30) as client:
        for body in bodies:
            fresh = {k: v for k, v in body.items() if k != "id"}  # a new event, not a retry
            position = client.post(f"{url}/events", json=fresh, headers=HEADERS).json()["position"]
            answered = time.perf_counter()
            while True:
                got, at = arrived.get(timeout=10)
                if got == position:
                    found.append(at - answered)
                    break
            time.sleep(0.05)
    return found
