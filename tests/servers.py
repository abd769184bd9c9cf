"""Real `sitrep serve` processes and a live-feed follower, for tests over real HTTP."""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import orjson

KEYS = "reader-key=reader:monitor,reporter-key=reporter:field-team,editor-key=editor:desk"
REPORTER = {"Authorization": "Bearer reporter-key"}
READER = {"Authorization": "Bearer reader-key"}


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextlib.contextmanager
def serving(database_url: str, *, workers: int = 1, keys: str = KEYS) -> Iterator[str]:
    """`sitrep serve` in its own process(es) on a free port; yields its base URL."""
    port = free_port()
    env = {**os.environ, "SITREP_DATABASE_URL": database_url, "SITREP_API_KEYS": keys}
    sitrep = Path(sys.executable).parent / "sitrep"
    command = [str(sitrep), "serve", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        assert process.stderr is not None
        process.stderr.close()


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            assert process.stderr is not None
            raise RuntimeError(f"sitrep serve exited: {process.stderr.read().decode()}")
        with contextlib.suppress(httpx2.TransportError):
            if httpx2.get(f"{url}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("sitrep serve did not answer within 30 s")


@dataclass(frozen=True)
class Delivered:
    """One server-sent event."""

    id: int
    data: dict[str, Any]


class Follower:
    """Follows `GET /events/stream` on a thread of its own, queueing what arrives."""

    def __init__(self, url: str, *, after: int = 0, last_event_id: int | None = None) -> None:
        headers = dict(READER)
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self._client = httpx2.Client(timeout=httpx2.Timeout(5, read=None))
        self._request = self._client.build_request(
            "GET", f"{url}/events/stream", params={"after": after}, headers=headers
        )
        self._delivered: queue.Queue[Delivered] = queue.Queue()
        self._connected = threading.Event()
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        if not self._connected.wait(10):
            raise RuntimeError("the live feed did not answer")

    def _read(self) -> None:
        with contextlib.suppress(httpx2.HTTPError, RuntimeError):
            response = self._client.send(self._request, stream=True)
            stream = response.extensions["network_stream"]
            self._socket = stream.get_extra_info("socket")
            self._connected.set()
            event: dict[str, str] = {}
            for line in response.iter_lines():
                if line:
                    field, _, value = line.partition(":")
                    event[field] = value.strip()
                    continue
                if "data" in event:
                    self._delivered.put(Delivered(int(event["id"]), orjson.loads(event["data"])))
                event = {}

    def next(self, timeout: float = 10) -> Delivered:
        """The next delivered record; queue.Empty if none came within `timeout` seconds."""
        return self._delivered.get(timeout=timeout)

    def take(self, count: int, timeout: float = 10) -> list[Delivered]:
        """The next `count` delivered records."""
        return [self.next(timeout) for _ in range(count)]

    def pending(self) -> int:
        """How many delivered records wait in the queue."""
        return self._delivered.qsize()

    def close(self) -> None:
        """Disconnect at once: shutting the socket down wakes the reading thread."""
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        self._client.close()
